"""The local file system as a backend: what copy, move, sync and the browser use for the local side.

Local paths stay real ``pathlib`` paths (``LocalPath``); this backend is how the layers above speak
to them through the same interface as to S3.  Writes go to a temporary file in the target's folder
and are renamed over the target on close, so a failed write never leaves a partial file.  Names read
from other storage become local names only through :meth:`LocalBackend.join_below`, which also
refuses a name whose way down passes a symlink that leads out of the target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import errors
from ..entries import DIRECTORY, Listing, ObjectInfo, Tree
from .base import Backend
from .batch import STREAM_CHUNK, FileJob, Progress
from .writers import SpooledWriter

__all__ = ["LocalBackend", "LocalWriter"]

PAGE = 1000  # entries per listing page (the browser shows a big folder as its pages arrive)


class LocalBackend(Backend):
    """``os`` and ``open`` behind the backend interface."""

    label = "local disk"
    concurrency = 8

    def stat(self, path: Any) -> ObjectInfo | None:
        try:
            result = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if os.path.isdir(path):
            return DIRECTORY
        return ObjectInfo(is_file=True, is_dir=False, size=result.st_size, mtime=result.st_mtime)

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        try:
            entries = os.scandir(path)
        except (FileNotFoundError, NotADirectoryError):
            yield Listing()
            return
        with entries:
            page: dict[str, ObjectInfo] = {}
            for entry in entries:
                info = _entry_info(entry)
                if info is not None:
                    page[entry.name] = info
                if len(page) >= PAGE:
                    yield Listing(page, dir_exists=True)
                    page = {}
        yield Listing(page, dir_exists=True)

    def tree(self, path: Any) -> Tree:
        """One ``os.walk`` (symlinked folders are not followed, as in pathlib's walk)."""
        result: Tree = {}
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
            result[rel] = Listing(children, dir_exists=True)
        return result

    def open_read(self, path: Any) -> BinaryIO:
        return open(path, "rb")

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        return LocalWriter(os.fspath(path), exclusive=exclusive)  # type: ignore[return-value]

    def delete(self, path: Any) -> None:
        os.unlink(path)

    def make_dir(self, path: Any) -> None:
        os.makedirs(path, exist_ok=True)

    def make_dirs(self, path: Any) -> None:
        os.makedirs(path, exist_ok=True)

    def remove_dir(self, path: Any) -> None:
        os.rmdir(path)

    def set_mtime(self, path: Any, mtime: float) -> bool:
        os.utime(path, (mtime, mtime))
        return True

    # -- names and places -------------------------------------------------------------------------

    def join_below(self, base: Any, parts: tuple[str, ...]) -> Any:
        """The name gate, plus what only the disk can tell: no symlink on the way down, the last name
        included, leads out of ``base`` (``base`` itself is the caller's choice and may be a link)."""
        joined = super().join_below(base, parts)
        if not parts or (len(parts) == 1 and not os.path.islink(joined)):
            return joined  # a plain name right below base stays there
        real_base = os.path.realpath(base).rstrip(os.sep) + os.sep
        real = os.path.realpath(joined)
        if not real.startswith(real_base):
            raise errors.UnsafeName(
                f"refused: {'/'.join(parts)!r} would be written through a symlink that leads out of the "
                f"target folder (to {real})", str(base), "copy")
        return joined

    def location(self, path: Any) -> tuple[str, ...]:
        return tuple(os.path.realpath(path).split(os.sep))

    def local_name(self, path: Any) -> str | None:
        return os.fspath(path)

    # -- transfers --------------------------------------------------------------------------------

    def rename(self, source: Any, target: Any, *, overwrite: bool = True) -> bool:
        """``os.replace`` on one file system; False across file systems, or where a folder would have
        to be merged into an existing one."""
        if os.path.lexists(target) and (not overwrite or os.path.isdir(target) != os.path.isdir(source)):
            if not overwrite:
                raise errors.AlreadyExists("File exists (overwrite=False)", str(target), "move")
            return False
        try:
            os.replace(source, target)
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise
        return True

    def copy_within(self, job: FileJob, on_progress: Progress, stop: Any) -> None:
        """Copy to a temporary name beside the target, keep the mode, rename into place."""
        target = os.fspath(job.target)
        directory = os.path.dirname(target) or "."
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".part")
        try:
            with open(job.source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(STREAM_CHUNK):
                    if stop.is_set():
                        raise errors.Cancelled("transfer cancelled: no partial file was left behind")
                    dst.write(chunk)
                    on_progress(len(chunk))
            shutil.copymode(job.source, temp)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


def _entry_info(entry: os.DirEntry[str]) -> ObjectInfo | None:
    try:
        if entry.is_dir():
            return DIRECTORY
        result = entry.stat()
    except OSError:  # a broken link or a file removed meanwhile
        return None
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
