"""Commands on the selection (``!`` in the browser): a shell command or a configured program, run in the
background with TFM's variables set, its output shown in the widget, cancellable.

``configure_browser(programs={"lines": 'wc -l "$@"'})`` names programs; the prompt offers each as a
button.  A command gets the selected items as its arguments (``"$@"``: each name exactly, whatever
it holds) and in ``TFM_THIS_SELECTED`` (shell-quoted: ``eval "wc -l $TFM_THIS_SELECTED"``).  Objects
in storage are names to a local program, not files: unless told otherwise the prompt first
downloads the remote items of the selection to a temporary folder (their names through the name
gate), and the arguments and ``TFM_THIS_SELECTED`` then name those local copies (removed when the
command ends).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from .. import errors, transfer
from ..path import Path
from .environment import shell_text, variables

__all__ = ["OUTPUT_LIMIT", "configure_browser", "programs", "run_command", "run_program"]

OUTPUT_LIMIT = 256 * 1024  # characters of output the widget shows (the end is cut, and says so)
DOWNLOAD_LABEL = " download the items in storage to a temporary folder first (the command gets the copies)"
_programs: dict[str, str] = {}


def configure_browser(*, programs: Mapping[str, str] | None = None) -> None:
    """Name shell commands the browser's ``!`` prompt offers, e.g. ``{"lines": 'wc -l "$@"'}``.

    Commands run with ``/bin/sh``, the selected items as their arguments (``"$@"``) and TFM's
    variables (see :mod:`tfm_jupyter.browser.environment`).  Giving ``programs`` replaces the
    earlier ones (``{}`` removes them all).
    """
    if programs is not None:
        bad = [name for name, command in programs.items() if not isinstance(command, str) or not name]
        if bad:
            raise ValueError(f"programs must map names to command strings: {bad!r}")
        _programs.clear()
        _programs.update(programs)


def programs() -> dict[str, str]:
    """The configured programs, by name."""
    return dict(_programs)


def run_command(command: str, env: Mapping[str, str], cwd: str | None,
                cancel: threading.Event | None = None, arguments: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run ``command`` in ``/bin/sh`` with ``arguments`` as ``"$@"``; returns (exit status, output
    with stderr merged).

    ``cancel`` kills the command's whole process group and raises ``Cancelled``.
    """
    process = subprocess.Popen(["/bin/sh", "-c", command, "tfm", *arguments], env=dict(env), cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: process.stdout.read(8192), b"")),
                              daemon=True)
    reader.start()
    while process.poll() is None:
        if cancel is not None and cancel.wait(0.05):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            reader.join()
            raise errors.Cancelled(f"cancelled: {command}")
        if cancel is None:
            process.wait()
    reader.join()
    text = b"".join(chunks).decode("utf-8", errors="replace")
    if len(text) > OUTPUT_LIMIT:
        text = text[:OUTPUT_LIMIT] + f"\n… (output cut at {OUTPUT_LIMIT:,} characters)"
    return process.returncode, text


def run_program(runner: Any, side: str) -> None:
    """The ``!`` key: ask for a command (or a configured program), then run it as a job."""
    browser = runner.browser
    chosen = [(browser.child(side, row.name), row.is_dir) for row in browser.pane(side).chosen()]
    has_remote = any(_remote(path) for path, _ in chosen)
    named = programs()
    listed = "".join(f"\n  {name}: {command}" for name, command in named.items())
    answer = browser.ask("Run a command", 'Runs in /bin/sh with the selected items as "$@" (the focused item '
                         "when nothing is selected), and $TFM_THIS_DIR, $TFM_THIS_SELECTED, $TFM_OTHER_DIR, … set."
                         f"{listed}", ("Run", *named, "Cancel"), kind="prompt", value="",
                         checkbox=DOWNLOAD_LABEL if has_remote else None, checked=has_remote)
    button = answer["button"]
    command = named.get(button) if button in named else (answer["value"] or "").strip() if button == "Run" else ""
    if not command:
        return
    browser.job = {"id": 1, "title": f"Running {command}", "running": True}
    cwd = browser.pane(side).cwd
    local_cwd = cwd.backend.local_name(cwd)
    with tempfile.TemporaryDirectory(prefix="tfm-run-") as scratch:
        if has_remote and answer["apply_all"]:
            chosen = _local_copies(chosen, Path(scratch), runner.cancel_event)
        env = {**os.environ, **variables(browser, {side: chosen})}
        arguments = tuple(shell_text(path, is_dir) for path, is_dir in chosen)
        status, output = run_command(command, env, local_cwd, runner.cancel_event, arguments)
    browser.preview = {"name": f"$ {command}", "kind": "text", "text": output,
                       "meta": {"exit status": status, "ran in": local_cwd or os.getcwd()}}
    if status:
        browser.notify(f"“{command}” failed: exit status {status} (its output is in the preview)", "error")
    else:
        browser.notify(f"“{command}” finished")


def _remote(path: Any) -> bool:
    return path.backend.local_name(path) is None


def _local_copies(chosen: list[tuple[Any, bool]], scratch: Any, cancel: threading.Event | None
                  ) -> list[tuple[Any, bool]]:
    """Each remote item downloaded into ``scratch`` under its own name, through the name gate (local
    items as they are), in the same order."""
    copies = []
    for path, is_dir in chosen:
        if _remote(path):
            target = transfer.target_in(scratch, path)  # UnsafeName for '..' and the like: never outside
            transfer.copy(path, target, progress=False, cancel=cancel)
            copies.append((target, is_dir))
        else:
            copies.append((path, is_dir))
    return copies
