"""``memory://``: files held in this process, a scratch space with pathlib's API (like fsspec's
``memory://``).  It is also the smallest complete backend: the seven core methods of
:class:`~tfm_jupyter.backends.base.Backend` and nothing else, so everything ``Path`` offers on it
(``glob``, ``walk``, ``open`` modes, copy and move to and from S3 and local folders) is derived.

``memory://box/`` is the folder ``box`` (created by ``mkdir`` or by writing below it); contents live
until the kernel ends.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import errors
from ..entries import DIRECTORY, Listing, ObjectInfo
from .base import Backend
from .writers import SpooledWriter

__all__ = ["MemoryBackend"]


class MemoryBackend(Backend):
    """Files and folders in a dict, keyed by their path's components."""

    label = "memory"
    literal_names = True  # keys are tuples of names, taken as they are

    def __init__(self) -> None:
        self._files: dict[tuple[str, ...], tuple[bytes, float]] = {}
        self._dirs: set[tuple[str, ...]] = {()}
        self._lock = threading.Lock()

    @staticmethod
    def _key(path: Any) -> tuple[str, ...]:
        return (path.authority, *path.parts[1:]) if path.authority else ()

    def stat(self, path: Any) -> ObjectInfo | None:
        key = self._key(path)
        with self._lock:
            if key in self._files:
                data, mtime = self._files[key]
                return ObjectInfo(is_file=True, is_dir=False, size=len(data), mtime=mtime)
            return DIRECTORY if key in self._dirs else None

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        key = self._key(path)
        with self._lock:
            if key not in self._dirs:
                yield Listing()
                return
            children: dict[str, ObjectInfo] = {}
            for name, (data, mtime) in ((k[-1], v) for k, v in self._files.items() if k[:-1] == key):
                children[name] = ObjectInfo(is_file=True, is_dir=False, size=len(data), mtime=mtime)
            for directory in self._dirs:
                if directory and directory[:-1] == key:
                    children[directory[-1]] = DIRECTORY
        yield Listing(children, dir_exists=True)

    def open_read(self, path: Any) -> BinaryIO:
        key = self._key(path)
        with self._lock:
            found, is_dir = self._files.get(key), key in self._dirs
        if found is None:
            if is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "open")
            raise errors.NotFound("No such file or directory", str(path), "open")
        return io.BytesIO(found[0])

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        key = self._key(path)

        def commit(spool: Any, size: int) -> None:
            with self._lock:
                if exclusive and key in self._files:
                    raise errors.AlreadyExists("File exists", str(path), "open")
                if key[:-1] not in self._dirs:  # like an object store, writing below a folder makes it
                    self._dirs.update(key[:i] for i in range(1, len(key)))
                self._files[key] = (spool.read(), time.time())

        return SpooledWriter(str(path), commit)  # type: ignore[return-value]

    def delete(self, path: Any) -> None:
        with self._lock:
            if self._files.pop(self._key(path), None) is None:
                raise errors.NotFound("No such file or directory", str(path), "unlink")

    def make_dir(self, path: Any) -> None:
        with self._lock:
            self._dirs.add(self._key(path))

    def remove_dir(self, path: Any) -> None:
        key = self._key(path)
        with self._lock:
            if any(k[:-1] == key for k in (*self._files, *self._dirs) if k):
                raise errors.DirectoryNotEmpty("Directory not empty", str(path), "rmdir")
            self._dirs.discard(key)
