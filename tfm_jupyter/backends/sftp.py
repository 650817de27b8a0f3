"""SFTP (and so SCP users' servers) as a backend: ``sftp://[user@]host[:port]/absolute/path``.

Built on paramiko: a synchronous client that fits the engines' thread pools, reads ``~/.ssh/config``,
talks to the ssh-agent and is what fsspec's own SFTP uses.  Connections and trust are
:mod:`.ssh_pool`'s; this module maps the interface onto SFTP requests:

* ``iterdir`` is one directory listing (OPENDIR, READDIR …, CLOSE); a symlink in it costs one STAT;
* writes go to ``.name.tfm-XXXX.part`` beside the target and are renamed over it on success
  (OpenSSH's ``posix-rename``), so a failed write never leaves a partial or truncated file, and
  missing parent folders are made first; ``x`` mode renames with plain SFTP RENAME, which refuses
  an existing target, so it is exclusive against other writers too;
* a move within one server is one rename; sequential reads are pipelined (paramiko's prefetch);
* times set by sync (``set_mtime``) are kept, so a second sync copies nothing.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import secrets
import stat as stat_module
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import config, errors
from ..entries import DIRECTORY, Listing, ObjectInfo
from .pool import PooledBackend
from .ssh_pool import ChannelPool, SSHTarget, mapped_ssh_errors
from .writers import SpooledWriter

__all__ = ["SFTPBackend"]

PREFETCH_FROM = 64 * 1024  # a read from the start at least this big is a stream: pipeline the rest


def remote_path(path: Any) -> str:
    """The server's absolute path of ``sftp://host/a/b``: ``/a/b``."""
    return "/" + path.key


class SFTPBackend(PooledBackend):
    """Files on SSH servers; each ``user@host:port`` has its own pool of SFTP channels."""

    label = "SFTP"
    concurrency = 8

    def __init__(self) -> None:
        super().__init__()
        config.on_change(lambda scheme: self.close() if scheme == "sftp" else None)

    def new_pool(self, authority: str) -> ChannelPool:
        return ChannelPool(SSHTarget.resolve(authority))

    mapped_errors = staticmethod(mapped_ssh_errors)

    # -- the core -----------------------------------------------------------------------------------

    def stat(self, path: Any) -> ObjectInfo | None:
        try:
            with self.session(path, "stat") as sftp:
                return _info(sftp.stat(remote_path(path)))
        except errors.NotFound:
            return None

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        try:
            with self.session(path, "listdir") as sftp:
                entries = sftp.listdir_attr(remote_path(path))
                children = {entry.filename: self._child_info(sftp, path, entry) for entry in entries}
        except (errors.NotFound, errors.NotADirectory):
            yield Listing()
            return
        except errors.StorageError:
            if self.stat(path) is not None:  # a file: no listing, as a missing folder
                yield Listing()
                return
            raise
        yield Listing({name: info for name, info in children.items() if info is not None}, dir_exists=True)

    def _child_info(self, sftp: Any, path: Any, entry: Any) -> ObjectInfo | None:
        if stat_module.S_ISLNK(entry.st_mode or 0):  # READDIR describes the link itself: ask where it leads
            self.count("stat")
            try:
                return _info(sftp.stat(posixpath.join(remote_path(path), entry.filename)))
            except OSError:  # a dangling link
                return None
        return _info(entry)

    def open_read(self, path: Any) -> BinaryIO:
        pool = self.host_pool(path)
        sftp = pool.acquire()
        try:
            with mapped_ssh_errors("open", str(path), pool.target):
                self.count("open")
                attributes = sftp.stat(remote_path(path))
                if stat_module.S_ISDIR(attributes.st_mode or 0):
                    raise errors.IsADirectory("Is a directory", str(path), "open")
                handle = sftp.open(remote_path(path), "rb")
        except BaseException:
            pool.release(sftp)
            raise
        return io.BufferedReader(_Reader(handle, attributes.st_size or 0, lambda: pool.release(sftp), str(path)),
                                 buffer_size=256 * 1024)

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        if not path.key:
            raise errors.IsADirectory("Is a directory", str(path), "open")
        self.count("write")
        return _Writer(self, path, exclusive)  # type: ignore[return-value]

    def delete(self, path: Any) -> None:
        with self.session(path, "remove") as sftp:
            sftp.remove(remote_path(path))

    def make_dir(self, path: Any) -> None:
        with self.session(path, "mkdir") as sftp:
            try:
                sftp.mkdir(remote_path(path))
            except OSError:
                if not _is_dir(sftp, remote_path(path)):
                    raise

    def make_dirs(self, path: Any) -> None:
        with self.session(path, "mkdir") as sftp:
            make_parents(sftp, remote_path(path), self.count)

    def remove_dir(self, path: Any) -> None:
        with self.session(path, "rmdir") as sftp:
            sftp.rmdir(remote_path(path))

    # -- derived, faster ------------------------------------------------------------------------------

    def set_mtime(self, path: Any, mtime: float) -> bool:
        with self.session(path, "setstat") as sftp:
            sftp.utime(remote_path(path), (mtime, mtime))
        return True

    def rename(self, source: Any, target: Any, *, overwrite: bool = True) -> bool:
        """One RENAME on the server: ``posix-rename`` over a file; a folder only onto nothing."""
        if source.authority != target.authority:
            return False
        with self.session(source, "rename") as sftp:
            old, new = remote_path(source), remote_path(target)
            there = _attributes(sftp, new)
            if there is not None:
                if not overwrite:
                    raise errors.AlreadyExists("File exists (overwrite=False)", str(target), "move")
                if stat_module.S_ISDIR(there.st_mode or 0) or _is_dir(sftp, old):
                    return False  # merging folders: copy and delete
            make_parents(sftp, posixpath.dirname(new), self.count)
            sftp.posix_rename(old, new)
        return True


def _info(attributes: Any) -> ObjectInfo:
    if stat_module.S_ISDIR(attributes.st_mode or 0):
        return DIRECTORY
    return ObjectInfo(is_file=True, is_dir=False, size=attributes.st_size or 0,
                      mtime=float(attributes.st_mtime) if attributes.st_mtime is not None else None)


def _attributes(sftp: Any, remote: str) -> Any:
    try:
        return sftp.stat(remote)
    except FileNotFoundError:
        return None


def _is_dir(sftp: Any, remote: str) -> bool:
    found = _attributes(sftp, remote)
    return found is not None and stat_module.S_ISDIR(found.st_mode or 0)


def make_parents(sftp: Any, remote_dir: str, count: Any) -> None:
    """``mkdir -p`` on the server (one STAT, then one MKDIR per missing level)."""
    missing = []
    while remote_dir not in ("", "/") and _attributes(sftp, remote_dir) is None:
        missing.append(remote_dir)
        remote_dir = posixpath.dirname(remote_dir)
    for directory in reversed(missing):
        count("mkdir")
        try:
            sftp.mkdir(directory)
        except OSError:
            if not _is_dir(sftp, directory):  # made meanwhile by someone else is fine
                raise


class _Reader(io.RawIOBase):
    """An SFTP file handle holding a pooled channel until closed; a read from the start that asks for
    a lot pipelines the rest of the file (prefetch), seeks read only what they ask."""

    def __init__(self, handle: Any, size: int, release: Any, name: str):
        super().__init__()
        self._handle, self._size, self._release, self.name = handle, size, release, name
        self._position = 0
        self._prefetching = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        if not self._prefetching and self._position == 0 and wanted >= PREFETCH_FROM:
            self._handle.prefetch(self._size)
            self._prefetching = True
        with mapped_ssh_errors("read", self.name):
            if self._prefetching:  # the pipelined stream of the whole file
                if self._handle.tell() != self._position:
                    self._handle.seek(self._position)
                data = self._handle.read(wanted)
            else:  # a range: its 32 KiB requests sent together (readv), not one round trip each
                data = b"".join(self._handle.readv([(self._position, wanted)]))
        view[:len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                with contextlib.suppress(Exception):
                    self._handle.close()
            finally:
                self._release()
        super().close()


class _Writer(SpooledWriter):
    """Writes to a temporary name beside the target on the server and renames it into place on success."""

    def __init__(self, backend: SFTPBackend, path: Any, exclusive: bool):
        self._backend, self._path, self._exclusive = backend, path, exclusive
        self._target = remote_path(path)
        directory, name = posixpath.split(self._target)
        self._temp = posixpath.join(directory, f".{name}.tfm-{secrets.token_hex(4)}.part")
        self._pool = backend.host_pool(path)
        self._sftp: Any = None
        super().__init__(str(path))

    def _open_spool(self) -> Any:
        self._sftp = self._pool.acquire()
        try:
            with mapped_ssh_errors("write", str(self._path), self._pool.target):
                make_parents(self._sftp, posixpath.dirname(self._target), self._backend.count)
                handle = self._sftp.open(self._temp, "wb")
                handle.set_pipelined(True)
        except BaseException:
            self._pool.release(self._sftp)
            self._sftp = None
            raise
        return handle

    def _commit(self, spool: Any, size: int) -> None:
        with mapped_ssh_errors("write", str(self._path), self._pool.target):
            spool.close()  # waits for every write to be acknowledged
            if self._exclusive:
                try:
                    self._sftp.rename(self._temp, self._target)  # SFTP RENAME refuses an existing target
                except OSError:
                    if _attributes(self._sftp, self._target) is not None:
                        raise errors.AlreadyExists("File exists", str(self._path), "open") from None
                    raise
            else:
                self._sftp.posix_rename(self._temp, self._target)
        self._backend.count("rename")

    def _abandon(self) -> None:
        if self._sftp is not None:
            with contextlib.suppress(Exception):
                self._sftp.remove(self._temp)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._sftp is not None:
                self._pool.release(self._sftp)
                self._sftp = None
