"""The two-pane browser widget: traitlets and messages on top of two :class:`PaneState` objects.

The front end owns cursor movement, selection, sorting and filtering and reports what it changed
on one channel: a ``state`` message, which the comm delivers in order with every action (so an
action always finds the focus it was pressed on).  This side mirrors each pane into traits,
``left_state``/``right_state`` and, kept apart because it can hold 100,000 names,
``left_selection``/``right_selection``, and owns everything that touches storage: listing
(streamed page by page in a background thread), previews, and the file operations, which run as
jobs in another background thread so the widget and the kernel stay responsive.
"""

from __future__ import annotations

import itertools
import logging
import pathlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import anywidget
import traitlets

from .. import errors
from .. import meter as request_meter
from ..path import Path
from .compare import compare_panes, synchronize_panes
from .environment import publish, refresh
from .jobs import JobRunner
from .laptop import Downloads, Uploads
from .listing import list_rows
from .pane import PaneState
from .programs import run_program

__all__ = ["Browser"]

log = logging.getLogger("tfm_jupyter.browser")
STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
ROWS_PER_MESSAGE = 5000
SIDES = ("left", "right")


class Browser(anywidget.AnyWidget):
    """A keyboard-driven two-pane file manager for local folders and S3 (press ``?`` for the keys).

    ``b.left`` / ``b.right`` are the panes (``.cwd`` is a live ``Path``); ``b.selected`` is the
    list of ``Path`` chosen in the active pane.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    left_state = traitlets.Dict().tag(sync=True)
    right_state = traitlets.Dict().tag(sync=True)
    left_selection = traitlets.Dict().tag(sync=True)
    right_selection = traitlets.Dict().tag(sync=True)
    active = traitlets.Unicode("left").tag(sync=True)
    dialog = traitlets.Dict().tag(sync=True)
    job = traitlets.Dict().tag(sync=True)
    message = traitlets.Dict().tag(sync=True)
    preview = traitlets.Dict().tag(sync=True)
    meter = traitlets.Dict().tag(sync=True)
    compare = traitlets.Dict().tag(sync=True)  # the marks of the last compare (=), per pane and folder

    def __init__(self, left: Any = None, right: Any = None, *, inventories: Mapping[str, Any] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        from ..commands import cwd

        # {"s3://bucket/prefix": manifest URI}: the usage view below these counts from the inventory
        self.inventories = {str(Path(root)).rstrip("/"): manifest for root, manifest in (inventories or {}).items()}
        self.left = PaneState(cwd=Path(left) if left is not None else cwd())
        self.right = PaneState(cwd=Path(right) if right is not None else Path("s3://"))
        self._lock = threading.RLock()
        self._listers = ThreadPoolExecutor(2, thread_name_prefix="tfm-list")
        self._pending: set[Future[Any]] = set()
        self.jobs = JobRunner(self)
        self.uploads, self.downloads = Uploads(self), Downloads(self)
        self._dialog_ids = itertools.count(1)
        self._answers: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self._meter_start = request_meter.reading()
        self.observe(lambda _: publish(self), names=["active"])
        self.on_msg(self._on_message)
        for side in SIDES:
            self._push(side)
            self.navigate(side, self.pane(side).cwd)
        publish(self)  # the newest browser is the one the shell sees

    # -- what Python code sees -----------------------------------------------------------------------

    def pane(self, side: str) -> PaneState:
        if side not in SIDES:
            raise ValueError(f"pane must be 'left' or 'right', not {side!r}")
        return self.left if side == "left" else self.right

    def other(self, side: str) -> str:
        return "right" if side == "left" else "left"

    def child(self, side: str, name: str) -> Any:
        return self.pane(side).cwd.child(name)

    @property
    def selected(self) -> list[Any]:
        """The chosen paths of the active pane (its selection, or else the focused row)."""
        return [self.child(self.active, row.name) for row in self.pane(self.active).chosen()]

    def inventory_for(self, root: Any) -> Any:
        """The inventory manifest configured for ``root`` or a folder above it (the nearest), else None."""
        text = str(root).rstrip("/")
        above = [prefix for prefix in self.inventories if text == prefix or text.startswith(prefix + "/")]
        return self.inventories[max(above, key=len)] if above else None

    def __repr__(self) -> str:
        return f"Browser(left={str(self.left.cwd)!r}, right={str(self.right.cwd)!r})"

    def track(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future[Any]) -> None:
        self.meter = {"text": "since opened: " + (request_meter.reading() - self._meter_start).summary()}
        self._pending.discard(future)

    def wait(self, timeout: float = 60) -> None:
        """Block until background listings and the running job are done (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the browser is still busy")
            wait(pending, timeout=remaining)

    # -- state in both directions ------------------------------------------------------------------

    def _push(self, side: str, selection: bool = True) -> None:
        """Mirror the pane into its traits (the selection only if it may have changed: it can be huge)."""
        with self._lock, self.hold_sync():  # one message, so the front end never sees them apart
            setattr(self, f"{side}_state", self.pane(side).to_state())
            if selection:
                setattr(self, f"{side}_selection", self.pane(side).selection_state())

    def notify(self, text: str, level: str = "info") -> None:
        """Show a line in the widget's status area (errors never kill the widget)."""
        self.message = {"text": text, "level": level, "seq": next(self._dialog_ids)}

    # -- listing -----------------------------------------------------------------------------------

    def navigate(self, side: str, path: Any, focus: str | None = None) -> None:
        """Show ``path`` in a pane; rows stream in from a background thread."""
        pane = self.pane(side)
        with self._lock:
            listing = pane.start_listing(Path(path), focus)
            self._push(side)
        if self.message.get("level") == "error":
            self.message = {}  # an error of an earlier step is no longer news
        if self.compare:
            self.compare = {}  # marks describe the folders as they were compared
        self.track(self._listers.submit(self._stream, side, listing))

    def _stream(self, side: str, listing: int) -> None:
        pane, done = self.pane(side), False
        try:
            for rows, cached, done in list_rows(pane.cwd):
                with self._lock:
                    pane.cached = cached
                    if not pane.add_rows(listing, rows, done):
                        return  # the pane moved on
                    self._send_rows(side, listing, rows, reset=False)
                    if done:
                        self._push(side)
                        self.send({"type": "focus", "pane": side, "name": pane.focus})  # scroll it into view
            if done:
                refresh(self)  # the focus (TFM_THIS_SELECTED) may have arrived with the rows
        except Exception as exc:  # shown in the pane, never a dead widget
            log.debug("listing %s failed", pane.cwd, exc_info=True)
            with self._lock:
                if pane.listing == listing:
                    pane.complete = True
                    self._push(side)
                    state = dict(getattr(self, f"{side}_state"), error=f"{type(exc).__name__}: {exc}")
                    setattr(self, f"{side}_state", state)
            self.notify(f"cannot list {pane.cwd}: {exc}", "error")

    def _send_rows(self, side: str, listing: int, rows: list[Any], reset: bool) -> None:
        """Rows to the front end in messages of at most ROWS_PER_MESSAGE (a cached listing can be huge)."""
        wire = [r.wire() for r in rows]
        for start in range(0, max(len(wire), 1), ROWS_PER_MESSAGE):
            self.send({"type": "rows", "pane": side, "listing": listing, "reset": reset and start == 0,
                       "rows": wire[start:start + ROWS_PER_MESSAGE]})

    def _resend(self) -> None:
        """A (new) view asked for everything: send all rows of both panes again."""
        with self._lock:
            for side in SIDES:
                pane = self.pane(side)
                self._send_rows(side, pane.listing, pane.rows, reset=True)
                self._push(side)

    def refresh(self, side: str, focus: str | None = None) -> None:
        """Forget the cached listing and list again (F5), keeping the focus where it was."""
        cwd = self.pane(side).cwd
        cwd.backend.forget(cwd)
        self.navigate(side, cwd, focus or self.pane(side).focus)

    # -- messages from the front end ----------------------------------------------------------------

    def _on_message(self, widget: Any, content: dict[str, Any], buffers: Any) -> None:
        action, side = content.get("action"), content.get("pane") or self.active
        if action == "upload_chunk":  # bytes for the upload job: queued, nothing else to do here
            self.uploads.chunk(content, buffers)
            return
        if side in SIDES and isinstance(content.get("state"), dict):
            with self._lock:  # the front end's one channel for what it changed: focus, selection, sort…
                self.pane(side).apply_state(content["state"])
        try:
            handler = self._handlers().get(action)
            if handler is None:
                raise ValueError(f"unknown action {action!r}")
            handler(side, content)
        except Exception as exc:
            log.debug("action %s failed", action, exc_info=True)
            self.notify(f"{action}: {errors.builtin_name(exc)}: {exc}", "error")
        publish(self)  # this browser was used last: the shell sees its panes

    def _handlers(self) -> dict[str, Callable[[str, dict[str, Any]], None]]:
        jobs = self.jobs
        return {
            "ready": lambda side, msg: self._resend(),
            "state": lambda side, msg: self._push(side, selection="selection" in msg.get("state", {})),
            "activate": lambda side, msg: setattr(self, "active", side),
            "open": lambda side, msg: self._open(side),
            "parent": lambda side, msg: self._parent(side),
            "cd": lambda side, msg: self._cd(side, msg.get("path") or ""),
            "refresh": lambda side, msg: self.refresh(side),
            "upload_start": lambda side, msg: self.uploads.start(side, msg),
            "download": lambda side, msg: self.downloads.start(side),
            "usage": lambda side, msg: jobs.start(jobs.usage, side),
            "answer": lambda side, msg: self._answer(msg),
            "cancel": lambda side, msg: jobs.cancel(),
            "copy": lambda side, msg: jobs.start(jobs.transfer, side, False),
            "move": lambda side, msg: jobs.start(jobs.transfer, side, True),
            "delete": lambda side, msg: jobs.start(jobs.delete, side),
            "rename": lambda side, msg: jobs.start(jobs.rename, side),
            "mkdir": lambda side, msg: jobs.start(jobs.create, side, True),
            "newfile": lambda side, msg: jobs.start(jobs.create, side, False),
            "search": lambda side, msg: jobs.start(jobs.search, side, msg.get("kind"), msg.get("pattern") or ""),
            "reveal": lambda side, msg: self._reveal(side, msg.get("path") or ""),
            "compare": lambda side, msg: jobs.start(compare_panes, jobs, side),
            "synchronize": lambda side, msg: jobs.start(synchronize_panes, jobs, side),
            "run": lambda side, msg: jobs.start(run_program, jobs, side),
        }

    def _reveal(self, side: str, relative: str) -> None:
        """Open the folder holding a search result, with the file focused."""
        cwd = self.pane(side).cwd
        parts = relative.split("/")
        self.navigate(side, cwd.child(*parts[:-1]), focus=parts[-1])

    def _open(self, side: str) -> None:
        pane = self.pane(side)
        row = pane.row(pane.focus)
        if row is None:
            return
        if row.is_dir:
            self.navigate(side, self.child(side, row.name))
        else:
            self.track(self._listers.submit(self.jobs.preview, side, row))

    def _parent(self, side: str) -> None:
        cwd = self.pane(side).cwd
        up = cwd.up  # from a bucket's root up to the bucket list
        if up != cwd:
            self.navigate(side, up, focus=cwd.name or getattr(cwd, "authority", None))

    def _cd(self, side: str, text: str) -> None:
        """Open a typed location; one that is not a folder says why (a missing bucket names the near
        ones; a missing local name typed without a scheme points at ``s3://``)."""
        from ..commands import resolve

        typed = text.strip() or "."
        target = resolve(typed)
        if target.is_dir():
            self.navigate(side, target)
            return
        if target.exists():
            raise NotADirectoryError(f"{target} is a file, not a folder: Enter on its row views it")
        hint = "" if "://" in typed or typed.startswith(("/", "~", ".")) else f"; on S3 it would be s3://{typed}"
        try:
            next(iter(target.iterdir()), None)  # says what is missing: the bucket (did you mean), the folder
        except FileNotFoundError:
            if not hint:
                raise
        raise FileNotFoundError(f"no folder {target}{hint}")

    # -- dialogs (asked from job threads, answered by the front end) --------------------------------

    def ask(self, title: str, message: str = "", buttons: tuple[str, ...] = ("OK", "Cancel"), *,
            kind: str = "confirm", value: str | None = None, allow_all: bool = False,
            checkbox: str | None = None, checked: bool = False, default: str | None = None) -> dict[str, Any]:
        """Show a dialog and wait for the answer: ``{'button', 'value', 'apply_all'}`` (``apply_all`` is
        the check box: "apply to all" with ``allow_all``, or one labelled ``checkbox``, ticked at first
        with ``checked``).  ``default`` names the button Enter presses (the first one otherwise):
        destructive dialogs name the safe choice."""
        dialog_id = next(self._dialog_ids)
        event = threading.Event()
        answer: dict[str, Any] = {"button": "Cancel", "value": None, "apply_all": False}
        self._answers[dialog_id] = (event, answer)
        self.dialog = {"id": dialog_id, "kind": kind, "title": title, "message": message, "buttons": list(buttons),
                       "value": value, "allow_all": allow_all, "checkbox": checkbox, "checked": checked,
                       "default": default}
        try:
            while not event.wait(0.5):
                if self.comm is None:  # the widget was closed: nobody will answer
                    break
        finally:
            self._answers.pop(dialog_id, None)
            if self.dialog.get("id") == dialog_id:
                self.dialog = {}
        return answer

    def _answer(self, message: dict[str, Any]) -> None:
        pending = self._answers.get(message.get("id"))
        if pending is None:
            return
        event, answer = pending
        answer.update(button=message.get("button"), value=message.get("value"),
                      apply_all=bool(message.get("apply_all")))
        event.set()

    def close(self) -> None:
        for event, _ in list(self._answers.values()):
            event.set()
        self.jobs.cancel()
        super().close()

