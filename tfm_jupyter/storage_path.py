"""``StoragePath``: pathlib's API derived from a storage backend's small core.

Every ``scheme://`` path is a :class:`StoragePath` whose I/O is its backend's
(:mod:`tfm_jupyter.backends`): existence, ``stat``, ``iterdir``, ``glob``/``rglob``/``walk`` (over the
backend's tree listing), reading, atomic writing, ``mkdir``/``rmdir``/``unlink``, and copy/move
through the transfer engine.  ``S3Path`` is the S3 flavour (see :mod:`tfm_jupyter.path`).
"""

from __future__ import annotations

import io
import stat as stat_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import errors
from .backends import get_backend
from .entries import Listing, ObjectInfo
from .uri import PureURIPath, iter_pattern_parts, match_parts

__all__ = ["StatResult", "StoragePath", "TransferMethods", "use_transfers", "walk_tree"]

_transfers: Any = None  # tfm_jupyter.transfer, which registers itself: it imports this module, never the reverse


def use_transfers(engine: Any) -> None:
    """Give ``Path.copy``/``move`` their engine (called once by :mod:`tfm_jupyter.transfer`)."""
    global _transfers
    _transfers = engine


class TransferMethods:
    """Python 3.14's copy/move API, for every kind of path (see :mod:`tfm_jupyter.transfer`)."""

    __slots__ = ()

    def copy(self, target: Any, *, overwrite: bool = True, progress: Any = None, cancel: Any = None,
             engine: Any = None, **_: Any) -> Any:
        """Copy this file or directory tree to ``target`` and return the new path (``cancel``: an event
        that stops it; ``engine``: a Dask client runs the copies on its cluster)."""
        return _transfers.copy(self, target, overwrite=overwrite, progress=progress, cancel=cancel, engine=engine)

    def copy_into(self, target_dir: Any, *, overwrite: bool = True, progress: Any = None, cancel: Any = None,
                  engine: Any = None, **_: Any) -> Any:
        """Copy into the directory ``target_dir``, keeping the name."""
        return _transfers.copy_into(self, target_dir, overwrite=overwrite, progress=progress, cancel=cancel,
                                    engine=engine)

    def move(self, target: Any, *, overwrite: bool = True, progress: Any = None, cancel: Any = None,
             engine: Any = None) -> Any:
        """Move to ``target``; sources are deleted only after every file arrived (``engine``: a Dask
        client runs the copies on its cluster)."""
        return _transfers.move(self, target, overwrite=overwrite, progress=progress, cancel=cancel, engine=engine)

    def move_into(self, target_dir: Any, *, overwrite: bool = True, progress: Any = None, cancel: Any = None,
                  engine: Any = None) -> Any:
        """Move into the directory ``target_dir``, keeping the name."""
        return _transfers.move_into(self, target_dir, overwrite=overwrite, progress=progress, cancel=cancel,
                                    engine=engine)


@dataclass(frozen=True)
class StatResult:
    """``stat()`` of a storage path: the ``os.stat_result`` fields plus the object's own metadata."""

    st_mode: int
    st_size: int
    st_mtime: float
    etag: str | None = None
    storage_class: str | None = None
    content_type: str | None = None
    st_ino: int = 0
    st_dev: int = 0
    st_nlink: int = 1
    st_uid: int = 0
    st_gid: int = 0

    @property
    def st_atime(self) -> float:
        return self.st_mtime

    @property
    def st_ctime(self) -> float:
        return self.st_mtime

    @property
    def st_mtime_ns(self) -> int:
        return int(self.st_mtime * 1e9)

    @classmethod
    def from_info(cls, info: ObjectInfo) -> StatResult:
        mode = (stat_module.S_IFREG | 0o644) if info.is_file else (stat_module.S_IFDIR | 0o755)
        return cls(st_mode=mode, st_size=info.size if info.is_file else 0, st_mtime=info.mtime or 0.0,
                   etag=info.etag, storage_class=info.storage_class, content_type=info.content_type)


class StoragePath(TransferMethods, PureURIPath):
    """A path on a storage backend, with pathlib's API.  Subclass per scheme (``scheme = "mem"``), or
    let :func:`tfm_jupyter.backends.register_backend` make the class."""

    __slots__ = ()

    @property
    def backend(self) -> Any:
        """The :class:`~tfm_jupyter.backends.Backend` serving this path's scheme."""
        return get_backend(self.scheme)

    # -- what exists ----------------------------------------------------------------------------

    def _info_or_none(self) -> ObjectInfo | None:
        return self.backend.stat(self)

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        """True if a file or a directory lives here."""
        return self._info_or_none() is not None

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        info = self._info_or_none()
        return bool(info and info.is_file)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        info = self._info_or_none()
        return bool(info and info.is_dir)

    def is_symlink(self) -> bool:
        return False

    is_socket = is_fifo = is_block_device = is_char_device = is_junction = is_symlink

    def is_mount(self) -> bool:
        return not self._parts

    def stat(self, *, follow_symlinks: bool = True) -> StatResult:
        """Size, mtime and (where the storage has them) ETag, storage class and content type."""
        info = self._info_or_none()
        if info is None:
            raise errors.NotFound("No such file or directory", str(self), "stat")
        return StatResult.from_info(info)

    def lstat(self) -> StatResult:
        return self.stat()

    def samefile(self, other_path: Any) -> bool:
        other = type(self)(other_path) if self.owns(other_path) else other_path
        self.stat()
        if not isinstance(other, StoragePath) or other.scheme != self.scheme:
            return False
        other.stat()
        return other == self

    def absolute(self) -> Any:
        return self

    def expanduser(self) -> Any:
        return self

    def resolve(self, strict: bool = False) -> Any:
        """Storage paths are already absolute and keys are literal, so this is the path itself."""
        if strict:
            self.stat()
        return self

    # -- listing ----------------------------------------------------------------------------------

    def _listing(self) -> Listing:
        return self.backend.listdir(self)

    def _raise_not_a_directory(self, operation: str) -> None:
        info = self._info_or_none()
        if info is not None and info.is_file:
            raise errors.NotADirectory("Not a directory", str(self), operation)
        raise errors.NotFound("No such file or directory", str(self), operation)

    def iterdir(self) -> Iterator[Any]:
        """Each child once, sorted by name."""
        listing = self._listing()
        if not listing.exists:
            self._raise_not_a_directory("iterdir")
        return iter([self.child(name) for name in sorted(listing.children)])

    def glob(self, pattern: str, *, case_sensitive: bool | None = None,
                 recurse_symlinks: bool = False) -> Iterator[Any]:
        """pathlib's glob; patterns with ``**`` or several wildcard levels use one tree listing."""
        parts = tuple(iter_pattern_parts(pattern))
        dirs_only = pattern.endswith("/")
        sensitive = True if case_sensitive is None else case_sensitive
        if not parts:
            raise ValueError(f"unacceptable pattern: {pattern!r}")
        if "**" in parts or sum(_has_magic(p) for p in parts) > 1:
            return self._glob_tree(parts, dirs_only, sensitive)
        return self._glob_levels(parts, dirs_only, sensitive)

    def rglob(self, pattern: str, *, case_sensitive: bool | None = None,
                  recurse_symlinks: bool = False) -> Iterator[Any]:
        """``glob('**/' + pattern)``: one tree listing (on S3, ceil(N/1000) requests)."""
        return self.glob(f"**/{pattern}", case_sensitive=case_sensitive)

    def _glob_levels(self, parts: tuple[str, ...], dirs_only: bool, sensitive: bool) -> Iterator[Any]:
        candidates = [self]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            found: list[Any] = []
            for base in candidates:
                if not _has_magic(part):
                    found.append(base.child(part))
                    continue
                listing = base._listing()
                for name in sorted(listing.children):
                    info = listing.children[name]
                    if (info.is_dir or (last and not dirs_only)) and match_parts((part,), (name,), sensitive):
                        found.append(base.child(name))
            candidates = found
        for path in candidates:
            if not _has_magic(parts[-1]) or dirs_only:  # literal names were not listed: check them
                info = path._info_or_none()
                if info is None or (dirs_only and not info.is_dir):
                    continue
            yield path

    def _glob_tree(self, parts: tuple[str, ...], dirs_only: bool, sensitive: bool) -> Iterator[Any]:
        tree = self.backend.tree(self)
        if parts[-1] == "**" and tree[()].exists:
            yield self
        for rel in sorted(tree):
            listing = tree[rel]
            for name in sorted(listing.children):
                if dirs_only and not listing.children[name].is_dir:
                    continue
                if match_parts(parts, (*rel, name), sensitive):
                    yield self.child(*rel, name)

    def walk(self, top_down: bool = True, on_error: Callable[[OSError], None] | None = None,
             follow_symlinks: bool = False) -> Iterator[tuple[Any, list[str], list[str]]]:
        """pathlib's walk over one tree listing; prune by editing ``dirnames`` when top-down."""
        try:
            tree = self.backend.tree(self)
        except OSError as exc:
            if on_error is not None:
                on_error(exc)
            return
        if not tree[()].exists:
            if on_error is not None:
                on_error(errors.NotFound("No such file or directory", str(self), "walk"))
            return
        yield from walk_tree(self, tree, top_down)

    # -- reading ----------------------------------------------------------------------------------

    def read_bytes(self) -> bytes:
        """The whole file."""
        return self.backend.read_bytes(self)

    def read_text(self, encoding: str | None = None, errors: str | None = None, newline: str | None = None) -> str:
        """Decode the file (UTF-8 unless told otherwise) with universal newlines, like pathlib."""
        data = self.read_bytes()
        with io.TextIOWrapper(io.BytesIO(data), encoding or "utf-8", errors, newline) as text:
            return text.read()

    def open(self, mode: str = "r", buffering: int = -1, encoding: str | None = None,
             errors: str | None = None, newline: str | None = None) -> Any:
        """Seekable reads (``r``/``rb``); atomic writes (``w``, ``x``, ``a``) on close."""
        self._object_key("open")
        return self.backend.open(self, mode, buffering, encoding, errors, newline)

    # -- writing ----------------------------------------------------------------------------------

    def _object_key(self, operation: str) -> str:
        if not self._parts or not self._bucket:
            raise errors.IsADirectory("Is a directory", str(self), operation)
        return self.key

    def write_bytes(self, data: Any) -> int:
        """Store ``data`` as the whole file."""
        view = memoryview(data).cast("B")
        self._object_key("write")
        self.backend.write_bytes(self, view)
        return len(view)

    def write_text(self, data: str, encoding: str | None = None, errors: str | None = None,
                   newline: str | None = None) -> int:
        if not isinstance(data, str):
            raise TypeError(f"data must be str, not {type(data).__name__}")
        if newline not in (None, "", "\n"):
            data = data.replace("\n", newline)
        self.write_bytes(data.encode(encoding or "utf-8", errors or "strict"))
        return len(data)

    def touch(self, mode: int = 0o666, exist_ok: bool = True) -> None:
        """Create an empty file if nothing is here; an existing one is left as it is (object stores
        change an mtime only by rewriting the data, which ``touch`` never does)."""
        if self.exists():
            if not exist_ok:
                raise errors.AlreadyExists("File exists", str(self), "touch")
            return
        try:
            self.backend.write_bytes(self, b"", exclusive=True)
        except errors.AlreadyExists:  # created meanwhile by someone else: keep their content
            if not exist_ok:
                raise

    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Create the directory (``parents=True`` creates missing ancestors)."""
        info = self._info_or_none()
        if info is not None:
            if exist_ok and info.is_dir:
                return
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        parent = self.parent
        if parent != self and not parent.is_dir():
            self._make_parent(parent, parents)
        self.backend.make_dir(self)

    def _make_parent(self, parent: Any, parents: bool) -> None:
        if not parents:
            raise errors.NotFound("No such file or directory (the parent is missing; use parents=True)",
                                  str(self), "mkdir")
        parent.mkdir(parents=True, exist_ok=True)

    def rmdir(self) -> None:
        """Remove an empty directory; a non-empty one raises OSError."""
        listing = self._listing()
        if not listing.exists:
            self._raise_not_a_directory("rmdir")
        if listing.children:
            raise errors.DirectoryNotEmpty("Directory not empty", str(self), "rmdir")
        self.backend.remove_dir(self)

    def unlink(self, missing_ok: bool = False) -> None:
        """Delete the file; a missing one raises FileNotFoundError unless ``missing_ok``."""
        self._object_key("unlink")
        info = self._info_or_none()
        if info is None or not info.is_file:
            if info is not None:
                raise errors.IsADirectory("Is a directory", str(self), "unlink")
            if missing_ok:
                return
            raise errors.NotFound("No such file or directory", str(self), "unlink")
        self.backend.delete(self)

    def rename(self, target: Any) -> Any:
        """Move to ``target`` (a full path of this scheme), replacing an existing file there."""
        return _transfers.move(self, self._rename_target(target), overwrite=True, progress=False)

    replace = rename

    def _rename_target(self, target: Any) -> Any:
        if isinstance(target, StoragePath) and target.scheme == self.scheme:
            return target
        if self.owns(target):
            return type(self)(target)
        shown = target if isinstance(target, str) else str(target)
        raise ValueError(
            f"rename target {target!r} is not a {self.scheme}:// path; give the full path "
            f"(e.g. p.with_name({shown!r})), or use p.move(other_path) to move it elsewhere")

    def presign(self, expires: int = 3600, method: str = "get") -> str:
        """A URL that grants ``method`` ('get' or 'put') on this file for ``expires`` seconds, where the
        storage has such links (S3's presigned URLs, Azure's SAS, GCS's signed URLs)."""
        if method not in ("get", "put"):
            raise ValueError("method must be 'get' or 'put'")
        self._object_key("presign")
        return self.backend.presign(self, expires, method)

    # -- what no object store has -----------------------------------------------------------------

    def chmod(self, mode: int, *, follow_symlinks: bool = True) -> None:
        """Object stores have no permission bits: a no-op."""

    def lchmod(self, mode: int) -> None:
        """Object stores have no permission bits: a no-op."""

    def _unsupported(self, *_: Any, **__: Any) -> Any:
        raise errors.UnsupportedOperation(f"{self.backend.label} has no symlinks, hard links or file ownership")

    symlink_to = hardlink_to = readlink = owner = group = _unsupported


def _has_magic(part: str) -> bool:
    return any(ch in part for ch in "*?[")


def walk_tree(path: Any, tree: dict[tuple[str, ...], Listing], top_down: bool, rel: tuple[str, ...] = ()
              ) -> Iterator[tuple[Any, list[str], list[str]]]:
    """pathlib's walk over a backend's :meth:`~tfm_jupyter.backends.Backend.tree` of ``path``."""
    children = tree.get(rel, Listing()).children
    dirnames = sorted(name for name, info in children.items() if info.is_dir)
    filenames = sorted(name for name, info in children.items() if info.is_file)
    here = path.child(*rel) if rel else path
    if top_down:
        yield here, dirnames, filenames  # the caller may prune dirnames before we descend
    for name in dirnames:
        yield from walk_tree(path, tree, top_down, (*rel, name))
    if not top_down:
        yield here, dirnames, filenames
