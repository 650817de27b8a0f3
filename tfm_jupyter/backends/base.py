"""The storage-backend interface: the small core every backend implements, and what is derived from it.

A backend answers for the names of one URI scheme.  Its methods take pure paths
(:class:`~tfm_jupyter.uri.PureURIPath`, or ``pathlib`` paths for the local backend) and speak
:class:`~tfm_jupyter.entries.ObjectInfo` and :class:`~tfm_jupyter.entries.Listing`.  Like
pathlib-abc's readable/writable paths, only a few operations are abstract; the rest have derived
defaults that a backend overrides where it has a faster way (S3: one flat listing for a whole tree,
batched deletes, ranged reads, server-side copy in the transfer engine).
"""

from __future__ import annotations

import io
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from types import MappingProxyType, TracebackType
from typing import Any, BinaryIO

from .. import errors
from ..entries import Listing, ObjectInfo

__all__ = ["Backend", "SpooledWriter", "open_with_mode"]

SPOOL_IN_MEMORY = 16 * 2**20


class Backend(ABC):
    """One storage system.  Implement the seven abstract methods; override the others for speed.

    Errors are :mod:`tfm_jupyter.errors` (builtin ``OSError`` subclasses), never the SDK's own.
    """

    label = "storage"  # how errors and reprs name this backend

    # -- the core --------------------------------------------------------------------------------

    @abstractmethod
    def stat(self, path: Any) -> ObjectInfo | None:
        """What lives at ``path`` (a file, a directory, or both), or None if nothing does."""

    @abstractmethod
    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        """The children of the directory ``path``, one page (a partial :class:`Listing`) at a time.
        A missing directory yields one empty listing whose ``exists`` is False."""

    @abstractmethod
    def open_read(self, path: Any) -> BinaryIO:
        """A seekable binary reader of the file ``path`` (IsADirectoryError for a directory,
        FileNotFoundError for nothing)."""

    @abstractmethod
    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        """A binary writer that replaces ``path`` on a clean ``close()`` and leaves it untouched when
        the ``with`` block fails or ``discard()`` is called (never a partial file)."""

    @abstractmethod
    def delete(self, path: Any) -> None:
        """Remove the file ``path``."""

    @abstractmethod
    def make_dir(self, path: Any) -> None:
        """Create the directory ``path`` (its parent exists)."""

    @abstractmethod
    def remove_dir(self, path: Any) -> None:
        """Remove the empty directory ``path``."""

    # -- derived: override where the storage has a faster way ------------------------------------

    def listdir(self, path: Any) -> Listing:
        """Every child of the directory ``path`` (its pages merged)."""
        children: dict[str, ObjectInfo] = {}
        marker, is_root, found = None, False, False
        for page in self.iter_listing_pages(path):
            found = found or page.exists
            marker, is_root = page.marker or marker, is_root or page.is_bucket_root
            for name, info in page.children.items():
                old = children.get(name)
                children[name] = info if old is None else old.merged(info)
        listing = Listing(MappingProxyType(children), marker, is_root)
        return listing if found or listing.exists else Listing()

    def tree(self, path: Any) -> dict[tuple[str, ...], Listing]:
        """The listing of ``path`` and of every directory below it, keyed by the components relative to
        ``path`` (``()`` is ``path`` itself).  Derived: one :meth:`listdir` per directory."""
        result: dict[tuple[str, ...], Listing] = {}
        pending: list[tuple[tuple[str, ...], Any]] = [((), path)]
        while pending:
            rel, directory = pending.pop()
            listing = result[rel] = self.listdir(directory)
            pending.extend(((*rel, name), directory.joinpath(name))
                           for name, info in listing.children.items() if info.is_dir)
        return result

    def forget(self, path: Any) -> None:
        """Drop anything cached about ``path`` and below, so the next listing asks the storage
        (sync decides on the truth).  Nothing cached: nothing to do."""
        return None

    def read_bytes(self, path: Any) -> bytes:
        with self.open_read(path) as reader:
            return reader.read()

    def write_bytes(self, path: Any, data: bytes, *, exclusive: bool = False) -> None:
        with self.open_write(path, exclusive=exclusive) as writer:
            writer.write(data)

    def delete_many(self, paths: Iterable[Any]) -> dict[str, OSError]:
        """Remove files; returns those that could not be removed, with why."""
        failed: dict[str, OSError] = {}
        for path in paths:
            try:
                self.delete(path)
            except OSError as exc:
                failed[str(path)] = exc
        return failed

    def open(self, path: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
             errors_: str | None = None, newline: str | None = None) -> Any:
        """``open()`` from :meth:`open_read` and :meth:`open_write`: modes r, w, x, a (b or t)."""
        def reader(_: int) -> BinaryIO:
            return self.open_read(path)

        def exists() -> bool:
            return self.stat(path) is not None

        def writer(exclusive: bool, initial: bytes) -> Any:
            stream = self.open_write(path, exclusive=exclusive)
            stream.write(initial)
            return stream

        return open_with_mode(str(path), mode, buffering, encoding, errors_, newline, reader=reader,
                              writer=writer, exists=exists, read_all=lambda: self.read_bytes(path))


class SpooledWriter(io.BufferedIOBase):
    """Collects bytes in a spool and hands them to ``commit(spool, size)`` on a clean ``close()``.

    An exception inside ``with`` or an explicit :meth:`discard` commits nothing.
    """

    def __init__(self, name: str, commit: Callable[[Any, int], None] | None = None):
        super().__init__()
        self.name = name
        self._commit_to = commit
        self._spool = self._open_spool()
        self._discarded = False

    def _open_spool(self) -> Any:
        return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)

    def _abandon(self) -> None:
        """Called instead of committing (after discard or a failed commit)."""

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

    def close(self) -> None:
        if self.closed:
            return
        committed = False
        try:
            if not self._discarded:
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
            self.close()


class _AtomicTextWriter(io.TextIOWrapper):
    """Text layer over an all-or-nothing writer that discards it when the ``with`` block fails."""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.buffer.discard()
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
