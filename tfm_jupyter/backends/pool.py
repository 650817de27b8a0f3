"""Pools of connections (SFTP channels, FTP control connections) that threads borrow one at a time, and
the base of the backends built on them.

Connections are made on demand, up to ``limit``; a thread that finds none free waits for one.  A
connection that failed in a way that may have broken it is closed instead of being returned.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from .. import errors
from .base import Backend

__all__ = ["Pool", "PooledBackend"]


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


class PooledBackend(Backend):
    """A backend whose hosts (``user@host:port``) each have a pool of connections, and which counts
    its requests for the meter.  Subclasses make a host's pool (:meth:`new_pool`: an object with
    ``target``, ``borrow()`` and ``close()``) and map their library's errors (:meth:`mapped_errors`)."""

    def __init__(self) -> None:
        self._pools: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def new_pool(self, authority: str) -> Any:
        raise NotImplementedError

    def mapped_errors(self, operation: str, location: str, target: Any) -> Any:
        raise NotImplementedError

    def host_pool(self, path: Any) -> Any:
        """The pool of ``path``'s host, made on first use."""
        if not path.authority:
            raise errors.UnsupportedOperation(f"{path.scheme}:// needs a host: {path.scheme}://[user@]host[:port]/path")
        with self._lock:
            pool = self._pools.get(path.authority)
            if pool is None:
                pool = self._pools[path.authority] = self.new_pool(path.authority)
            return pool

    @contextlib.contextmanager
    def session(self, path: Any, operation: str) -> Iterator[Any]:
        """A connection to ``path``'s host for the block, its failures mapped, the request counted."""
        pool = self.host_pool(path)
        with self.mapped_errors(operation, str(path), pool.target), pool.borrow() as connection:
            self.count(operation)
            yield connection

    def count(self, operation: str) -> None:
        with self._lock:
            self.counts[operation] += 1

    def close(self) -> None:
        """Drop every connection (a new configuration applies from the next request)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def request_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)
