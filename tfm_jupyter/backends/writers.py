"""All-or-nothing writers and ``open()``'s modes for storage that is written whole.

A writer collects bytes and commits them on a clean ``close()``; it commits nothing when

* the ``with`` block it is used in raises, or :meth:`SpooledWriter.discard` is called, or
* ``close()`` runs while an exception is propagating that was not already being handled when the
  writer was opened.  Libraries close their files in ``finally`` (pandas does), so a writer that
  fails half-way never gets a ``with`` exit carrying the error: ``sys.exc_info()`` inside ``close()``
  still shows it.  A writer opened and closed inside an ``except`` block commits as usual.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .. import errors

__all__ = ["SPOOL_IN_MEMORY", "SpooledWriter", "open_with_mode"]

SPOOL_IN_MEMORY = 16 * 2**20


class SpooledWriter(io.BufferedIOBase):
    """Collects bytes in a spool and hands them to ``commit(spool, size)`` on a successful ``close()``."""

    def __init__(self, name: str, commit: Callable[[Any, int], None] | None = None):
        super().__init__()
        self.name = name
        self._commit_to = commit
        self._handled_when_opened = sys.exc_info()[1]
        self._clean = False
        self._spool = self._open_spool()
        self._discarded = False

    def _open_spool(self) -> Any:
        import tempfile

        return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)

    def _abandon(self) -> None:
        """Called instead of committing (after discard, a failure, or a failed commit)."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._checkClosed()
        return self._spool.write(data)

    def tell(self) -> int:
        return self._spool.tell()

    def discard(self) -> None:
        """Close without committing: the target keeps its previous content (or stays absent)."""
        self._discarded = True
        self.close()

    def mark_clean(self) -> None:
        """The caller finished writing successfully: ``close()`` commits even inside an ``except``."""
        self._clean = True

    def _failing(self) -> bool:
        propagating = sys.exc_info()[1]
        return not self._clean and propagating is not None and propagating is not self._handled_when_opened

    def close(self) -> None:
        if self.closed:
            return
        committed = False
        try:
            if not self._discarded and not self._failing():
                size = self._spool.tell()
                self._spool.seek(0)
                self._commit(self._spool, size)
                committed = True
        finally:
            self._spool.close()
            if not committed:
                self._abandon()
            super().close()

    def _commit(self, spool: Any, size: int) -> None:
        if self._commit_to is None:
            raise NotImplementedError("give SpooledWriter a commit function or override _commit")
        self._commit_to(spool, size)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.mark_clean()
            self.close()


class _AtomicTextWriter(io.TextIOWrapper):
    """Text layer over an all-or-nothing writer that discards it when the ``with`` block fails."""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.buffer.discard()
        else:
            self.buffer.mark_clean()
        super().__exit__(exc_type, exc, tb)

    def discard(self) -> None:
        self.buffer.discard()


def open_with_mode(name: str, mode: str, buffering: int, encoding: str | None, errors_: str | None,
                   newline: str | None, *, reader: Callable[[int], Any], writer: Callable[[bool, bytes], Any],
                   exists: Callable[[], bool], read_all: Callable[[], bytes]) -> Any:
    """``open()``'s mode handling for whole-object storage: r, w, x, a (each with b or t), no ``+``.

    ``reader(buffering)`` opens for reading; ``writer(exclusive, initial_bytes)`` for an
    all-or-nothing write; ``exists()`` and ``read_all()`` serve ``x`` and ``a``.
    """
    kind = set(mode)
    if not kind <= set("rwxabt") or len(mode) != len(kind) or len(kind & set("rwxa")) != 1 or {"b", "t"} <= kind:
        if "+" in mode:
            raise ValueError(f"mode {mode!r}: objects cannot be updated in place; read, then write anew")
        raise ValueError(f"invalid mode: {mode!r}")
    binary = "b" in kind
    if binary and (encoding or errors_ or newline is not None):
        raise ValueError("binary mode doesn't take an encoding, errors or newline argument")
    if "r" in kind:
        if buffering == 0 and not binary:
            raise ValueError("can't have unbuffered text I/O")
        stream = reader(buffering)
        return stream if binary else io.TextIOWrapper(stream, encoding or "utf-8", errors_, newline)
    if "x" in kind and exists():
        raise errors.AlreadyExists("File exists", name, "open")
    initial = read_all() if "a" in kind and exists() else b""
    stream = writer("x" in kind, initial)
    return stream if binary else _AtomicTextWriter(stream, encoding or "utf-8", errors_, newline, write_through=False)
