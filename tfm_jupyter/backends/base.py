"""The storage-backend interface: the small core every backend implements, and what is derived from it.

A backend answers for the names of one URI scheme.  Its methods take paths (``StoragePath`` of its
scheme, or ``pathlib`` paths for the local backend) and speak
:class:`~tfm_jupyter.entries.ObjectInfo` and :class:`~tfm_jupyter.entries.Listing`.  Like
pathlib-abc's readable/writable paths, only seven operations are abstract; everything else has a
derived default that a backend overrides where it has a faster way (S3: one flat listing for a
whole tree, batched deletes, ranged reads, server-side copy).  Everything above ``backends/``
(transfers, sync, search, the commands and magics, the browser, the data tools, the meter) speaks
only this interface.

The rules every backend keeps:

* **Errors** are :mod:`tfm_jupyter.errors` classes: one base, :class:`~tfm_jupyter.errors.StorageError`
  (an ``OSError``), mixed with the matching builtin (``FileNotFoundError``, ``PermissionError`` …),
  with a message that names the location and says what to do, and never a secret.  Never the SDK's
  own exceptions.
* **Threads**: every method may be called from several threads at once.  ``concurrency`` says how
  many calls the engines keep in flight (a connection pool's size; 1 serialises them).
* **Writers create missing parents**: ``open_write`` (and so ``write_bytes``) of ``a/b/c`` works when
  ``a/b`` does not exist yet, as on object stores.  ``make_dir`` is only for directories that must
  exist while empty.
* **Writers are all-or-nothing**: ``open_write`` returns a writer that replaces the target on a
  successful ``close()`` and leaves it untouched when the writing fails (see
  :mod:`~tfm_jupyter.backends.writers`): never a partial file, never a truncated old one.
* **"Exists even when empty"** is :attr:`~tfm_jupyter.entries.Listing.dir_exists`: a file system's
  folders and a bucket exist with no children; an object store's prefix exists only through what
  is below it (``implicit_dirs``) or its marker object.
* **Names**: ``literal_names`` says the storage takes every name as it is (object stores: ``..`` is a
  key like any other).  A backend whose names are paths (local disk, SFTP, FTP) refuses names that
  would leave a target folder in :meth:`Backend.join_below`, the one gate every engine uses before a
  name read from one storage becomes a path of another.
* **Caches**: a backend that caches keeps its cache true after its own writes, inside itself; the
  layers above only ever ask it to :meth:`Backend.forget` (a user's refresh, a sync's fresh look).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator
from types import MappingProxyType
from typing import Any, BinaryIO

from .. import errors
from ..entries import Listing, ObjectInfo, Survey, Tree
from ..names import unsafe_parts
from .batch import STREAM_CHUNK, Batch, FileJob, Progress, stream_file
from .writers import SpooledWriter, open_with_mode

__all__ = ["Backend", "SpooledWriter", "open_with_mode"]


class Backend(ABC):
    """One storage system.  Implement the seven abstract methods; override the others for speed."""

    label = "storage"  # how errors, reprs and the meter name this backend
    literal_names = False  # True: names are literal keys; False: names are paths, gated by join_below
    implicit_dirs = False  # True: a directory exists only through what is below it (object stores)
    concurrency = 8  # calls the engines keep in flight against this backend

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
        """An all-or-nothing binary writer of ``path`` that creates missing parents (see the rules)."""

    @abstractmethod
    def delete(self, path: Any) -> None:
        """Remove the file ``path``."""

    @abstractmethod
    def make_dir(self, path: Any) -> None:
        """Create the directory ``path`` (its parent exists)."""

    @abstractmethod
    def remove_dir(self, path: Any) -> None:
        """Remove the empty directory ``path``."""

    # -- derived: listing --------------------------------------------------------------------------

    def listdir(self, path: Any) -> Listing:
        """Every child of the directory ``path`` (its pages merged)."""
        children: dict[str, ObjectInfo] = {}
        marker, dir_exists, found = None, False, False
        for page in self.iter_listing_pages(path):
            found = found or page.exists
            marker, dir_exists = page.marker or marker, dir_exists or page.dir_exists
            for name, info in page.children.items():
                old = children.get(name)
                children[name] = info if old is None else old.merged(info)
        listing = Listing(MappingProxyType(children), marker, dir_exists)
        return listing if found or listing.exists else Listing()

    def cached_listing(self, path: Any) -> Listing | None:
        """The listing of ``path`` if the backend holds a fresh one, without a request; else None."""
        return None

    def tree(self, path: Any) -> Tree:
        """The listing of ``path`` and of every directory below it, keyed by the components relative to
        ``path`` (``()`` is ``path`` itself).  Derived: one :meth:`listdir` per directory."""
        result: Tree = {}
        pending: list[tuple[tuple[str, ...], Any]] = [((), path)]
        while pending:
            rel, directory = pending.pop()
            listing = result[rel] = self.listdir(directory)
            pending.extend(((*rel, name), directory.child(name))
                           for name, info in listing.children.items() if info.is_dir)
        return result

    def survey(self, path: Any, *, stream: bool = False) -> Survey:
        """What lives at ``path`` and, for a directory, its tree (see :class:`~tfm_jupyter.entries.Survey`).

        With ``stream``, a backend that lists big trees page by page may hand them over as they come
        (``streamed=True``).  Derived: :meth:`stat`, then :meth:`tree` when it is read.
        """
        info = self.stat(path)
        if info is None or not info.is_dir:
            return Survey(info)
        return Survey(info, (self.tree(path) for _ in range(1)))

    def forget(self, path: Any) -> None:
        """Drop anything cached about ``path`` and below, so the next listing asks the storage."""
        return None

    # -- derived: reading --------------------------------------------------------------------------

    def read_bytes(self, path: Any) -> bytes:
        with self.open_read(path) as reader:
            return reader.read()

    def iter_bytes(self, path: Any, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start`` up to ``end`` (exclusive; None: the end of the file), in chunks."""
        with self.open_read(path) as reader:
            if start:
                reader.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                chunk = reader.read(STREAM_CHUNK if remaining is None else min(STREAM_CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def read_range(self, path: Any, start: int, end: int) -> bytes:
        """Bytes ``start`` up to ``end`` (exclusive) of the file ``path``."""
        return b"".join(self.iter_bytes(path, start, end))

    def metadata(self, path: Any) -> dict[str, Any]:
        """What the storage says about the file ``path`` beyond its size and time (content type, …)."""
        info = self.stat(path)
        if info is None:
            raise errors.NotFound("No such file or directory", str(path), "info")
        return {"size": info.size, "mtime": info.mtime, "etag": info.etag, "storage_class": info.storage_class,
                "content_type": info.content_type}

    # -- derived: writing --------------------------------------------------------------------------

    def write_bytes(self, path: Any, data: bytes, *, exclusive: bool = False) -> None:
        with self.open_write(path, exclusive=exclusive) as writer:
            writer.write(data)

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

    def make_dirs(self, path: Any) -> None:
        """``path`` and its missing parents as directories (nothing if it is one already)."""
        missing = []
        for candidate in (path, *path.parents):
            info = self.stat(candidate)
            if info is not None:
                if not info.is_dir:
                    raise errors.NotADirectory("Not a directory", str(candidate), "mkdir")
                break
            missing.append(candidate)
        for directory in reversed(missing):
            with contextlib.suppress(errors.AlreadyExists, FileExistsError):
                self.make_dir(directory)

    def presign(self, path: Any, expires: int, method: str) -> str:
        """A link granting ``method`` ('get'/'put') on ``path`` for ``expires`` seconds, computed locally."""
        raise errors.UnsupportedOperation(f"{self.label} has no presigned links")

    def set_mtime(self, path: Any, mtime: float) -> bool:
        """Set the file's modification time; False where the storage keeps its own (object stores)."""
        return False

    # -- derived: deleting ---------------------------------------------------------------------------

    def delete_many(self, paths: Iterable[Any]) -> dict[str, OSError]:
        """Remove files; returns those that could not be removed, with why."""
        failed: dict[str, OSError] = {}
        for path in paths:
            try:
                self.delete(path)
            except OSError as exc:
                failed[str(path)] = exc
        return failed

    def delete_tree(self, files: Iterable[Any], directories: Iterable[Any]) -> dict[str, OSError]:
        """Remove ``files``, then ``directories`` deepest first where they are empty by then (one that
        still holds something stays).  Returns the files that could not be removed."""
        failed = self.delete_many(files)
        for directory in sorted(directories, key=lambda d: len(d.parts), reverse=True):
            with contextlib.suppress(OSError):
                self.remove_dir(directory)
        return failed

    # -- derived: names and places -------------------------------------------------------------------

    def join_below(self, base: Any, parts: tuple[str, ...]) -> Any:
        """The path of ``parts`` (names read from some storage) below the directory ``base`` of this
        backend; :class:`~tfm_jupyter.errors.UnsafeName` where a name would not stay below ``base``."""
        if not self.literal_names:
            reason = unsafe_parts(parts)
            if reason is not None:
                raise errors.UnsafeName(f"refused: {reason}; writing it would leave the target folder",
                                        str(base), "copy")
        return base.child(*parts) if parts else base

    def location(self, path: Any) -> tuple[str, ...]:
        """Where ``path`` is, as components comparable with any other path of this backend (two paths
        overlap when one location starts with the other)."""
        return tuple(path.parts)

    def local_name(self, path: Any) -> str | None:
        """The file name of ``path`` on this machine's file system, or None (remote storage)."""
        return None

    # -- derived: transfers ----------------------------------------------------------------------------

    def rename(self, source: Any, target: Any, *, overwrite: bool = True) -> bool:
        """Move ``source`` to ``target`` inside this backend in one step; False where that is not
        possible (the transfer engine then copies and deletes)."""
        return False

    def copy_within(self, job: FileJob, on_progress: Progress, stop: Any) -> None:
        """Copy one file to another path of this backend: server-side where the storage can.
        Derived: a stream from :meth:`open_read` into :meth:`open_write`."""
        stream_file(self, self, job, on_progress, stop)

    def batch_from(self, source: Backend) -> Batch | None:
        """A faster way to bring files from ``source`` to this backend (a :class:`Batch`), or None."""
        return None

    def batch_to(self, target: Backend) -> Batch | None:
        """A faster way to take files from this backend to ``target``, or None."""
        return None

    # -- derived: what it cost ---------------------------------------------------------------------------

    def request_counts(self) -> Counter[str]:
        """Requests (or round trips) this backend sent in this process, by operation."""
        return Counter()

    def saved_counts(self) -> Counter[str]:
        """Requests this backend's cache answered instead of the storage, by operation."""
        return Counter()

    def request_cost(self, operation: str) -> float:
        """What one request of ``operation`` costs in USD (0 where the storage does not bill requests)."""
        return 0.0

    def storage_price(self, storage_class: str | None) -> float | None:
        """USD per GB-month of a storage class here, or None where we know no price (local disk, …)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

