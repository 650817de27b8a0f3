"""The local file system as a backend: what copy, move and sync use for the local side.

Local paths stay real ``pathlib`` paths (``LocalPath``); this backend is how the layers above speak
to them through the same interface as to S3.  Writes go to a temporary file in the target's folder
and are renamed over the target on close, so a failed write never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import errors
from ..entries import DIRECTORY, Listing, ObjectInfo
from .base import Backend, SpooledWriter

__all__ = ["LocalBackend", "LocalWriter"]


class LocalBackend(Backend):
    """``os`` and ``open`` behind the backend interface."""

    label = "local disk"

    def stat(self, path: Any) -> ObjectInfo | None:
        try:
            result = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if os.path.isdir(path):
            return DIRECTORY
        return ObjectInfo(is_file=True, is_dir=False, size=result.st_size, mtime=result.st_mtime)

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        yield self.listdir(path)

    def listdir(self, path: Any) -> Listing:
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            return Listing()
        return Listing({entry.name: _entry_info(entry) for entry in entries}, is_bucket_root=True)

    def tree(self, path: Any) -> dict[tuple[str, ...], Listing]:
        """One ``os.walk`` (symlinked folders are not followed, as in pathlib's walk)."""
        result: dict[tuple[str, ...], Listing] = {}
        root = os.fspath(path)
        if not os.path.isdir(root):
            return {(): Listing()}
        for directory, dirnames, filenames in os.walk(root):
            rel = tuple(os.path.relpath(directory, root).split(os.sep)) if directory != root else ()
            children = dict.fromkeys(dirnames, DIRECTORY)
            for name in filenames:
                with contextlib.suppress(OSError):  # vanished meanwhile
                    found = os.stat(os.path.join(directory, name))
                    children[name] = ObjectInfo(is_file=True, is_dir=False, size=found.st_size,
                                                mtime=found.st_mtime)
            result[rel] = Listing(children, is_bucket_root=True)
        return result

    def open_read(self, path: Any) -> BinaryIO:
        return open(path, "rb")

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        return LocalWriter(os.fspath(path), exclusive=exclusive)  # type: ignore[return-value]

    def delete(self, path: Any) -> None:
        os.unlink(path)

    def make_dir(self, path: Any) -> None:
        os.makedirs(path, exist_ok=True)

    def remove_dir(self, path: Any) -> None:
        os.rmdir(path)


def _entry_info(entry: os.DirEntry[str]) -> ObjectInfo:
    if entry.is_dir():
        return DIRECTORY
    try:
        result = entry.stat()
    except OSError:
        return ObjectInfo(is_file=True, is_dir=False)
    return ObjectInfo(is_file=True, is_dir=False, size=result.st_size, mtime=result.st_mtime)


class LocalWriter(SpooledWriter):
    """Writes to ``.name.XXXX.part`` beside the target and renames it over the target on close."""

    def __init__(self, target: str, *, exclusive: bool = False):
        self._target, self._exclusive = target, exclusive
        super().__init__(target)

    def _open_spool(self) -> Any:
        directory = os.path.dirname(self._target) or "."
        os.makedirs(directory, exist_ok=True)
        fd, self._temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(self._target)}.",
                                          suffix=".part")
        return os.fdopen(fd, "w+b")

    def _commit(self, spool: Any, size: int) -> None:
        spool.close()
        try:  # mkstemp's 0600 would make every written file private: keep the old file's mode
            mode = os.stat(self._target).st_mode & 0o777
        except OSError:
            mode = 0o644
        os.chmod(self._temp, mode)
        if self._exclusive:
            try:
                os.link(self._temp, self._target)  # fails if the target appeared meanwhile
            except FileExistsError:
                raise errors.AlreadyExists("File exists", self._target, "open") from None
            os.unlink(self._temp)
        else:
            os.replace(self._temp, self._target)

    def _abandon(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self._temp)
