"""``Path``: one pathlib-compatible type for local files and ``s3://bucket/key`` objects.

``Path('s3://bucket/key')`` builds an :class:`S3Path`; anything else builds a :class:`LocalPath`,
which *is* a ``pathlib.Path`` (``os.fspath``, ``open()`` and pandas take it unchanged).  Both are
instances of ``Path``.  S3 paths implement pathlib's API on top of the storage layer and
are never local file names: ``os.fspath(s3_path)`` is the URI ``s3a://bucket/key``, which pandas and
fsspec read through tfm_jupyter, and ``open(s3_path)`` or ``os.makedirs(s3_path)`` raise ``NotLocal``.
"""

from __future__ import annotations

import io
import os
import pathlib
import stat as stat_module
from abc import ABCMeta
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import errors
from .cache import NOT_FOUND
from .guard import guard_local_file_system
from .s3.entries import DIRECTORY, Listing, ObjectInfo
from .uri import PureS3Path, is_s3_uri, iter_pattern_parts, match_parts

__all__ = ["FSPATH_SCHEME", "LocalPath", "Path", "S3Path", "S3StatResult", "use_transfers", "walk_tree"]

FSPATH_SCHEME = "s3a"  # what os.fspath() of an S3 path starts with (see S3Path.__fspath__)


def _store() -> Any:
    from .s3.stores import get_store

    return get_store()


class _PathMeta(ABCMeta):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Path:
            return _make_path(args)
        return super().__call__(*args, **kwargs)


def _make_path(args: tuple[Any, ...]) -> Any:
    # Like an absolute component in pathlib, an s3:// segment discards everything before it.
    for index in range(len(args) - 1, -1, -1):
        arg = args[index]
        if isinstance(arg, PureS3Path) or is_s3_uri(arg):
            return S3Path(*args[index:])
    return LocalPath(*args)


class Path(metaclass=_PathMeta):
    """A local or S3 path: ``Path('s3://bucket/key')`` or ``Path('/home/me/data.csv')``.

    ``isinstance(p, Path)`` is true for both kinds.  See :class:`S3Path` and :class:`LocalPath`.
    """

    __slots__ = ()

    @classmethod
    def cwd(cls) -> LocalPath:
        return LocalPath.cwd()

    @classmethod
    def home(cls) -> LocalPath:
        return LocalPath.home()


_transfers: Any = None  # tfm_jupyter.transfer, which registers itself: it imports this module, never the reverse


def use_transfers(engine: Any) -> None:
    """Give ``Path.copy``/``move`` their engine (called once by :mod:`tfm_jupyter.transfer`)."""
    global _transfers
    _transfers = engine


class _TransferMethods:
    """Python 3.14's copy/move API, for local and S3 paths alike (see :mod:`tfm_jupyter.transfer`)."""

    __slots__ = ()

    def copy(self, target: Any, *, overwrite: bool = True, progress: Any = None, **_: Any) -> Any:
        """Copy this file or directory tree to ``target`` and return the new path."""
        return _transfers.copy(self, target, overwrite=overwrite, progress=progress)

    def copy_into(self, target_dir: Any, *, overwrite: bool = True, progress: Any = None, **_: Any) -> Any:
        """Copy into the directory ``target_dir``, keeping the name."""
        return _transfers.copy_into(self, target_dir, overwrite=overwrite, progress=progress)

    def move(self, target: Any, *, overwrite: bool = True, progress: Any = None) -> Any:
        """Move to ``target``; sources are deleted only after every file arrived."""
        return _transfers.move(self, target, overwrite=overwrite, progress=progress)

    def move_into(self, target_dir: Any, *, overwrite: bool = True, progress: Any = None) -> Any:
        """Move into the directory ``target_dir``, keeping the name."""
        return _transfers.move_into(self, target_dir, overwrite=overwrite, progress=progress)


# -- local paths -------------------------------------------------------------------------------------


class LocalPath(_TransferMethods, type(pathlib.Path())):  # type: ignore[misc]
    """A real ``pathlib`` path (PosixPath on POSIX) with the extra methods of :class:`Path`."""

    __slots__ = ()

    def __truediv__(self, other: Any) -> Any:
        if isinstance(other, PureS3Path) or is_s3_uri(other):
            return Path(other)
        return super().__truediv__(other)

    def joinpath(self, *segments: Any) -> Any:
        return _make_path((self, *segments))

    if not hasattr(pathlib.Path, "walk"):  # Python < 3.12

        def walk(self, top_down: bool = True, on_error: Callable[[OSError], None] | None = None,
                 follow_symlinks: bool = False) -> Iterator[tuple[Any, list[str], list[str]]]:
            """``os.walk`` as pathlib 3.12 spells it."""
            for root, dirs, files in os.walk(self, topdown=top_down, onerror=on_error, followlinks=follow_symlinks):
                yield type(self)(root), dirs, files


Path.register(LocalPath)


# -- S3 paths ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3StatResult:
    """``stat()`` of an S3 path: the ``os.stat_result`` fields plus S3's own metadata."""

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
    def from_info(cls, info: ObjectInfo) -> S3StatResult:
        mode = (stat_module.S_IFREG | 0o644) if info.is_file else (stat_module.S_IFDIR | 0o755)
        return cls(st_mode=mode, st_size=info.size if info.is_file else 0, st_mtime=info.mtime or 0.0,
                   etag=info.etag, storage_class=info.storage_class, content_type=info.content_type)


class S3PathInfo:
    """``p.info``: ``exists()/is_dir()/is_file()/is_symlink()`` from the cache, and the object's full
    metadata (``size``, ``mtime``, ``etag``, ``storage_class``, ``content_type``, ``metadata``) from
    one HeadObject on first access."""

    __slots__ = ("_head", "_path")

    def __init__(self, path: S3Path):
        self._path = path
        self._head: dict[str, Any] | None = None

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        return self._path.exists()

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._path.is_dir()

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._path.is_file()

    def is_symlink(self) -> bool:
        return False

    def _metadata(self) -> dict[str, Any]:
        if self._head is None:
            self._head = _store().head_metadata(self._path.bucket, self._path._object_key("info"))
        return self._head

    size = property(lambda self: self._metadata()["size"], doc="Object size in bytes.")
    mtime = property(lambda self: self._metadata()["mtime"], doc="Last-modified time (POSIX seconds).")
    etag = property(lambda self: self._metadata()["etag"], doc="The ETag (quoted, as S3 returns it).")
    storage_class = property(lambda self: self._metadata()["storage_class"], doc="e.g. STANDARD, GLACIER.")
    content_type = property(lambda self: self._metadata()["content_type"], doc="The Content-Type header.")
    metadata = property(lambda self: self._metadata()["metadata"], doc="User metadata (x-amz-meta-*).")
    version_id = property(lambda self: self._metadata()["version_id"], doc="VersionId if versioned.")

    def __repr__(self) -> str:
        return f"S3PathInfo({str(self._path)!r})"


class S3Path(_TransferMethods, PureS3Path, Path):
    """An object or prefix in S3 with pathlib's API.

    Answers come from the shared :class:`~tfm_jupyter.S3Cache` when fresh: after ``iterdir()`` of a
    directory, ``stat()``/``is_file()``/``exists()`` of its children cost no requests.
    """

    __slots__ = ()

    def __fspath__(self) -> str:
        """``s3a://bucket/key``: the URI that pandas (and every fsspec user) reads through tfm_jupyter.

        Not ``s3://``: pandas hands ``s3://`` parquet paths to pyarrow's own S3 client first, which
        knows nothing of our endpoints, credentials, cache or meter; ``s3a://`` (Hadoop's name for
        S3) is one pyarrow does not claim, so pandas falls through to fsspec, where tfm_jupyter
        serves both.  The local file system refuses it: ``open(p)``, ``os.makedirs(p)`` and the like
        raise :class:`~tfm_jupyter.errors.NotLocal` (see :mod:`tfm_jupyter.guard`).
        """
        guard_local_file_system()
        return FSPATH_SCHEME + str(self)[len("s3"):]

    # -- what exists ----------------------------------------------------------------------------

    def _info(self) -> ObjectInfo | Any:
        if not self._bucket:
            return DIRECTORY
        if not self._parts:
            return _store().bucket_info(self._bucket)
        return _store().stat(self._bucket, self.key)

    def _info_or_none(self) -> ObjectInfo | None:
        try:
            info = self._info()
        except errors.NotFound:
            return None
        return info if info is not NOT_FOUND else None

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        """True if an object or a non-empty prefix (or directory marker) lives here."""
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

    def stat(self, *, follow_symlinks: bool = True) -> S3StatResult:
        """Size, mtime, ETag and storage class (0 requests when a listing of the parent is cached)."""
        info = self._info_or_none()
        if info is None:
            raise errors.NotFound("No such file or directory", str(self), "stat")
        return S3StatResult.from_info(info)

    def lstat(self) -> S3StatResult:
        return self.stat()

    def samefile(self, other_path: Any) -> bool:
        other = other_path if isinstance(other_path, (PureS3Path, pathlib.PurePath)) else Path(other_path)
        self.stat()
        if not isinstance(other, S3Path):
            return False
        other.stat()
        return other == self

    def absolute(self) -> S3Path:
        return self

    def expanduser(self) -> S3Path:
        return self

    def resolve(self, strict: bool = False) -> S3Path:
        """S3 paths are already absolute and keys are literal, so this is the path itself."""
        if strict:
            self.stat()
        return self

    # -- listing ----------------------------------------------------------------------------------

    def _listing(self) -> Listing:
        if not self._bucket:
            return Listing({name: DIRECTORY for name in _store().list_buckets()}, is_bucket_root=True)
        return _store().listdir(self._bucket, self.dir_prefix)

    def _raise_not_a_directory(self) -> None:
        info = self._info_or_none()
        if info is not None and info.is_file:
            raise errors.NotADirectory("Not a directory", str(self), "iterdir")
        raise errors.NotFound("No such file or directory", str(self), "iterdir")

    def iterdir(self) -> Iterator[S3Path]:
        """Each child once, sorted by name (the marker object of this prefix is not a child)."""
        listing = self._listing()
        if not listing.exists:
            self._raise_not_a_directory()
        return iter([self.child(name) for name in sorted(listing.children)])

    def glob(self, pattern: str, *, case_sensitive: bool | None = None,
             recurse_symlinks: bool = False) -> Iterator[S3Path]:
        """pathlib's glob; patterns with ``**`` or several wildcard levels use one flat listing."""
        parts = tuple(iter_pattern_parts(pattern))
        dirs_only = pattern.endswith("/")
        sensitive = True if case_sensitive is None else case_sensitive
        if not parts:
            raise ValueError(f"unacceptable pattern: {pattern!r}")
        if "**" in parts or sum(_has_magic(p) for p in parts) > 1:
            return self._glob_tree(parts, dirs_only, sensitive)
        return self._glob_levels(parts, dirs_only, sensitive)

    def rglob(self, pattern: str, *, case_sensitive: bool | None = None,
              recurse_symlinks: bool = False) -> Iterator[S3Path]:
        """``glob('**/' + pattern)``: one flat listing of the whole tree (ceil(N/1000) requests)."""
        return self.glob(f"**/{pattern}", case_sensitive=case_sensitive)

    def _glob_levels(self, parts: tuple[str, ...], dirs_only: bool, sensitive: bool) -> Iterator[S3Path]:
        candidates = [self]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            found: list[S3Path] = []
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

    def _glob_tree(self, parts: tuple[str, ...], dirs_only: bool, sensitive: bool) -> Iterator[S3Path]:
        if not self._bucket:
            raise errors.UnsupportedOperation("recursive glob over all buckets is not supported")
        root = self.dir_prefix
        tree = _store().tree(self._bucket, root)
        if parts[-1] == "**" and tree[root].exists:
            yield self
        for prefix in sorted(tree):
            listing = tree[prefix]
            rel = tuple(prefix[len(root):-1].split("/")) if prefix != root else ()
            for name in sorted(listing.children):
                info = listing.children[name]
                if dirs_only and not info.is_dir:
                    continue
                if match_parts(parts, (*rel, name), sensitive):
                    yield self._from_parsed(self._bucket, (*self._parts, *rel, name))

    def walk(self, top_down: bool = True, on_error: Callable[[OSError], None] | None = None,
             follow_symlinks: bool = False) -> Iterator[tuple[S3Path, list[str], list[str]]]:
        """pathlib's walk over one flat listing; prune by editing ``dirnames`` when top-down."""
        try:
            tree = _store().tree(self._bucket, self.dir_prefix) if self._bucket else None
        except OSError as exc:
            if on_error is not None:
                on_error(exc)
            return
        if tree is None or not tree[self.dir_prefix].exists:
            if on_error is not None:
                on_error(errors.NotFound("No such file or directory", str(self), "walk"))
            return
        yield from walk_tree(self, tree, top_down)

    # -- reading ----------------------------------------------------------------------------------

    def _object_key(self, operation: str) -> str:
        if not self._parts or not self._bucket:
            raise errors.IsADirectory("Is a directory", str(self), operation)
        return self.key

    def read_bytes(self) -> bytes:
        """The whole object: one GetObject (small objects may be served from the cache)."""
        return _store().read(self._bucket, self._object_key("read"))

    def read_text(self, encoding: str | None = None, errors: str | None = None,
                  newline: str | None = None) -> str:
        """Decode the object (UTF-8 unless told otherwise) with universal newlines, like pathlib."""
        data = self.read_bytes()
        with io.TextIOWrapper(io.BytesIO(data), encoding or "utf-8", errors, newline) as text:
            return text.read()

    def open(self, mode: str = "r", buffering: int = -1, encoding: str | None = None,
             errors: str | None = None, newline: str | None = None) -> Any:
        """Seekable streaming reads (``r``/``rb``); atomic writes (``w``, ``x``, ``a``) on close."""
        from .s3.io import open_s3

        key = self._object_key("open")
        return open_s3(_store(), self._bucket, key, mode, buffering, encoding, errors, newline,
                       exists=self.exists)

    # -- writing ----------------------------------------------------------------------------------

    def write_bytes(self, data: Any) -> int:
        """Store ``data`` as the whole object (one PutObject; multipart above 64 MiB)."""
        view = memoryview(data).cast("B")
        key = self._object_key("write")
        from .s3.io import SINGLE_PUT_LIMIT

        if len(view) > SINGLE_PUT_LIMIT:
            _store().upload(self._bucket, key, io.BytesIO(view), size=len(view))
        else:
            _store().write(self._bucket, key, view.tobytes())
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
        """Create an empty object if nothing is here; an existing object is left as it is.

        S3 changes an mtime only by copying the object onto itself (a new version, headers and
        encryption to restate, a 5 GiB limit), so ``touch`` never rewrites data for a timestamp.
        """
        if self.exists():
            if not exist_ok:
                raise errors.AlreadyExists("File exists", str(self), "touch")
            return
        try:
            _store().write(self._bucket, self._object_key("touch"), b"", exclusive=True)
        except errors.AlreadyExists:  # created meanwhile by someone else: keep their content
            if not exist_ok:
                raise

    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Create the directory marker ``key/`` (or, for ``s3://bucket/``, the bucket)."""
        if not self._bucket:
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        if not self._parts:
            return self._make_bucket(exist_ok)
        info = self._info_or_none()
        if info is not None:
            if exist_ok and info.is_dir:
                return None
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        parent = self.parent
        if not parent.is_dir():
            if not parent._parts:
                raise errors.BucketNotFound(
                    f"No such bucket; create it first with Path('s3://{self._bucket}/').mkdir()", str(self), "mkdir")
            if not parents:
                raise errors.NotFound("No such file or directory (the parent is missing; use parents=True)",
                                      str(self), "mkdir")
            parent.mkdir(parents=True, exist_ok=True)
        _store().make_marker(self._bucket, self.dir_prefix)
        return None

    def _make_bucket(self, exist_ok: bool) -> None:
        if self.exists():
            if exist_ok:
                return
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        try:
            _store().create_bucket(self._bucket)
        except errors.AlreadyExists:
            if not exist_ok:
                raise

    def rmdir(self) -> None:
        """Remove an empty directory's marker (or an empty bucket); non-empty raises OSError."""
        if not self._bucket:
            raise errors.AccessDenied("The root of all buckets cannot be removed", str(self), "rmdir")
        if not self._parts:
            if not self.exists():
                raise errors.BucketNotFound("No such bucket", str(self), "rmdir")
            return _store().delete_bucket(self._bucket)
        listing = self._listing()
        if not listing.exists:
            self._raise_not_a_directory()
        if listing.children:
            raise errors.DirectoryNotEmpty("Directory not empty", str(self), "rmdir")
        _store().remove_marker(self._bucket, self.dir_prefix)
        return None

    def unlink(self, missing_ok: bool = False) -> None:
        """Delete the object; a missing key raises FileNotFoundError unless ``missing_ok``."""
        key = self._object_key("unlink")
        info = self._info_or_none()
        if info is None or not info.is_file:
            if info is not None:
                raise errors.IsADirectory("Is a directory", str(self), "unlink")
            if missing_ok:
                return
            raise errors.NotFound("No such file or directory", str(self), "unlink")
        _store().delete(self._bucket, key)

    def rename(self, target: Any) -> S3Path:
        """Move to ``target`` (a full ``s3://`` path) inside S3, replacing an existing file there."""
        return _transfers.move(self, self._rename_target(target), overwrite=True, progress=False)

    replace = rename

    def _rename_target(self, target: Any) -> S3Path:
        if isinstance(target, S3Path):
            return target
        if is_s3_uri(target):
            return S3Path(target)
        raise ValueError(
            f"rename target {target!r} is not an s3:// path; give the full path "
            f"(e.g. p.with_name({os.fspath(target) if isinstance(target, os.PathLike) else target!r})), "
            "or use p.move(local_path) to move the object out of S3"
        )

    # -- S3 extras ----------------------------------------------------------------------------------

    def _cached_api_call(self, operation: str, ttl: float | None = None, **params: Any) -> Any:
        """Run any boto3 S3 operation through the shared cache (read operations only are cached).

        ``Bucket`` (and ``Key`` where the operation takes one) default to this path's.
        """
        from .s3.calls import cached_api_call

        return cached_api_call(_store().store_for(self._bucket), self._bucket, self.key, operation, ttl, params)

    def presign(self, expires: int = 3600, method: str = "get") -> str:
        """A URL that grants ``method`` ('get' or 'put') on this object for ``expires`` seconds.

        It is computed locally (no request) and carries a signature: share it deliberately.
        """
        operations = {"get": "get_object", "put": "put_object"}
        if method not in operations:
            raise ValueError("method must be 'get' or 'put'")
        return _store().store_for(self._bucket).client.presign(
            operations[method], {"Bucket": self._bucket, "Key": self._object_key("presign")}, expires)

    def versions(self) -> list[Any]:
        """Every stored version of this object, newest first (ListObjectVersions)."""
        from .s3.versions import list_versions

        return list_versions(self)

    @property
    def info(self) -> Any:
        """Python 3.14's ``PathInfo`` plus S3 metadata: size, mtime, etag, storage class, content type."""
        return S3PathInfo(self)

    # -- unsupported on S3 -------------------------------------------------------------------------

    def chmod(self, mode: int, *, follow_symlinks: bool = True) -> None:
        """S3 has no permission bits: a no-op."""

    def lchmod(self, mode: int) -> None:
        """S3 has no permission bits: a no-op."""

    def _unsupported(self, *_: Any, **__: Any) -> Any:
        raise errors.UnsupportedOperation("S3 has no symlinks, hard links or file ownership")

    symlink_to = hardlink_to = readlink = owner = group = _unsupported


def _has_magic(part: str) -> bool:
    return any(ch in part for ch in "*?[")


def walk_tree(path: S3Path, tree: dict[str, Listing], top_down: bool
               ) -> Iterator[tuple[S3Path, list[str], list[str]]]:
    prefix = path.dir_prefix
    children = tree.get(prefix, Listing()).children
    dirnames = sorted(name for name, info in children.items() if info.is_dir)
    filenames = sorted(name for name, info in children.items() if info.is_file)
    if top_down:
        yield path, dirnames, filenames  # the caller may prune dirnames before we descend
    for name in dirnames:
        yield from walk_tree(path.child(name), tree, top_down)
    if not top_down:
        yield path, dirnames, filenames
