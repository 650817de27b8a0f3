"""The cancel event of the work in progress, seen by the listings below it.

A sync or search lists before it copies or reads, and a listing of a big tree is a chain of
requests.  Inside ``with cancel_scope(event):`` every paginated listing checks ``event`` before
asking for its next page (parallel listings too: their threads inherit the scope), so a cancel
stops the listing after the request in flight instead of after the whole tree.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

from . import errors

__all__ = ["Either", "cancel_scope", "check_cancelled"]

_current: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("tfm_cancel", default=None)


@contextlib.contextmanager
def cancel_scope(event: threading.Event | None) -> Iterator[None]:
    """Listings inside the block stop with :class:`~tfm_jupyter.errors.Cancelled` once ``event`` is set."""
    token = _current.set(event)
    try:
        yield
    finally:
        _current.reset(token)


def check_cancelled() -> None:
    """Raise :class:`~tfm_jupyter.errors.Cancelled` if the current scope's event is set."""
    event = _current.get()
    if event is not None and event.is_set():
        raise errors.Cancelled("cancelled while listing: nothing was changed after that point")


class Either:
    """Set when any of its events is (``None`` entries are ignored): e.g. the caller's cancel, or the
    work's own stop."""

    def __init__(self, *events: threading.Event | None):
        self._events = [event for event in events if event is not None]

    def is_set(self) -> bool:
        return any(event.is_set() for event in self._events)
