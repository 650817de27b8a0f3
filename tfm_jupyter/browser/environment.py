"""The browser's state for the shell next to it: TFM's external-program variables.

While a browser is shown, ``os.environ`` holds what the spec's terminal app hands its external
programs, kept current as focus, selection and folders change (the most recently used browser wins):

* ``TFM_THIS_DIR`` / ``TFM_OTHER_DIR``: the active / the other pane's folder (``s3://bucket/prefix/``
  with the trailing ``/`` that ``aws s3 ls`` needs, or a local path);
* ``TFM_THIS_SELECTED`` / ``TFM_OTHER_SELECTED``: the selected items, or the focused one when nothing is
  selected, as full paths, shell-quoted and space-separated;
* ``TFM_LEFT_DIR`` / ``TFM_RIGHT_DIR``.

So ``!aws s3 ls $TFM_THIS_DIR`` and ``!wc -l $TFM_THIS_SELECTED`` work in the next cell (names with
spaces or quotes arrive quoted: ``!eval wc -l $TFM_THIS_SELECTED`` reads them back).
"""

from __future__ import annotations

import os
import shlex
import weakref
from collections.abc import Iterable
from typing import Any

__all__ = ["NAMES", "publish", "refresh", "shell_text", "variables"]

NAMES = ("TFM_THIS_DIR", "TFM_OTHER_DIR", "TFM_THIS_SELECTED", "TFM_OTHER_SELECTED", "TFM_LEFT_DIR", "TFM_RIGHT_DIR")


def shell_text(path: Any, is_dir: bool = True) -> str:
    """How a path is written for the shell: folders in storage (``s3://b/dir/``) end in ``/``, as
    ``aws s3 ls`` needs; the rest as ``str`` gives it."""
    text = str(path)
    if is_dir and not text.endswith("/") and path.backend.local_name(path) is None:
        return text + "/"
    return text


def quoted(paths: Iterable[tuple[Any, bool]]) -> str:
    return " ".join(shlex.quote(shell_text(path, is_dir)) for path, is_dir in paths)


def variables(browser: Any, selected: dict[str, list[tuple[Any, bool]]] | None = None) -> dict[str, str]:
    """The six variables for ``browser`` as it is now; ``selected`` replaces a pane's chosen items
    (e.g. by local copies of S3 objects)."""
    this = browser.active
    other = browser.other(this)
    chosen = {side: [(browser.child(side, row.name), row.is_dir) for row in browser.pane(side).chosen()]
              for side in ("left", "right")}
    chosen.update(selected or {})
    return {
        "TFM_THIS_DIR": shell_text(browser.pane(this).cwd),
        "TFM_OTHER_DIR": shell_text(browser.pane(other).cwd),
        "TFM_THIS_SELECTED": quoted(chosen[this]),
        "TFM_OTHER_SELECTED": quoted(chosen[other]),
        "TFM_LEFT_DIR": shell_text(browser.pane("left").cwd),
        "TFM_RIGHT_DIR": shell_text(browser.pane("right").cwd),
    }


_current: Any = None  # a weak reference to the browser used last


def publish(browser: Any) -> None:
    """``browser`` was just used: write its variables into ``os.environ`` (``!`` cells and subprocesses
    inherit them)."""
    global _current
    _current = weakref.ref(browser)
    os.environ.update(variables(browser))


def refresh(browser: Any) -> None:
    """``browser`` changed by itself (a listing arrived): update the variables if it was used last."""
    if _current is not None and _current() is browser:
        os.environ.update(variables(browser))
