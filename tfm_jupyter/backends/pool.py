"""A pool of connections (SFTP channels, FTP control connections) that threads borrow one at a time.

Connections are made on demand, up to ``limit``; a thread that finds none free waits for one.  A
connection that failed in a way that may have broken it is closed instead of being returned.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Pool"]


class Pool:
    """``make()`` opens a connection, ``discard(conn)`` closes one; ``borrow()`` lends one for a block."""

    def __init__(self, make: Callable[[], Any], discard: Callable[[Any], None], limit: int,
                 broken: Callable[[Any, BaseException], bool]):
        self._make, self._discard, self._limit, self._broken = make, discard, limit, broken
        self._cond = threading.Condition()
        self._idle: list[Any] = []
        self._open = 0

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Any]:
        connection = self.acquire()
        broken = False
        try:
            yield connection
        except BaseException as exc:
            broken = self._broken(connection, exc)
            raise
        finally:
            self.release(connection, broken)

    def acquire(self) -> Any:
        with self._cond:
            while not self._idle and self._open >= self._limit:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._make()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def release(self, connection: Any, broken: bool = False) -> None:
        with self._cond:
            if broken:
                self._open -= 1
            else:
                self._idle.append(connection)
            self._cond.notify()
        if broken:
            with contextlib.suppress(Exception):
                self._discard(connection)

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for connection in idle:
            with contextlib.suppress(Exception):
                self._discard(connection)
