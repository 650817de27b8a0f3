"""Run an iterator on its own thread, a few items ahead of the one consuming it.

A big S3 listing is a chain of requests; a transfer can work on the first page while the next
ones are fetched.  The producer holds at most ``ahead`` items (a slow consumer holds the listing
back instead of piling it up in memory) and asks for nothing more once the consumer stopped:
at most the request already in flight completes, and the source iterator is closed on its thread.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Prefetch", "offer"]

T = TypeVar("T")
_END = object()
POLL = 0.05  # how soon a waiting consumer notices its check (e.g. a cancel) fire


class Prefetch(Generic[T]):
    """``for item in Prefetch(source, check=...)``: ``source`` runs on a thread named ``name``.

    ``check()`` runs while the consumer waits; whatever it raises (e.g. a cancel) ends the
    iteration at once and stops the producer.  An exception raised by ``source`` is raised here.
    """

    def __init__(self, source: Iterable[T], *, ahead: int = 4, check: Callable[[], None] | None = None,
                 name: str = "tfm-listing"):
        self._items: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._check = check
        context = contextvars.copy_context()  # e.g. the cancel scope the listing checks
        self._thread = threading.Thread(target=context.run, args=(self._produce, iter(source)), name=name,
                                        daemon=True)
        self._thread.start()

    def _produce(self, source: Iterator[T]) -> None:
        try:
            while not self._stop.is_set():
                try:
                    item: object = next(source)
                except StopIteration:
                    item = _END
                if not offer(self._items, (item, None), self._stop) or item is _END:
                    return
        except BaseException as exc:  # handed to the consumer
            offer(self._items, (_END, exc), self._stop)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        while True:
            try:
                if self._check is not None:
                    self._check()
                item, error = self._items.get(timeout=POLL)
            except queue.Empty:
                continue
            except BaseException:
                self.close()
                raise
            if item is _END:
                self.close()
                if error is not None:
                    raise error
                raise StopIteration
            return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the producer after what it is doing now (it is not waited for)."""
        self._stop.set()


def offer(items: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` on a bounded queue for its consumer, unless it stopped taking them (then False)."""
    while not stop.is_set():
        try:
            items.put(item, timeout=POLL)
            return True
        except queue.Full:
            continue
    return False
