"""``Path``: one pathlib-compatible type for local files, ``s3://bucket/key`` objects and any other
registered storage backend's ``scheme://`` paths.

``Path('s3://bucket/key')`` builds an :class:`S3Path`; ``Path('mem://…')`` a path of the backend
registered for ``mem`` (see :mod:`tfm_jupyter.backends`); anything else builds a :class:`LocalPath`,
which *is* a ``pathlib.Path`` (``os.fspath``, ``open()`` and pandas take it unchanged).  All are
instances of ``Path``.  Storage paths implement pathlib's API on top of their backend
(:class:`~tfm_jupyter.storage_path.StoragePath`) and are never local file names: ``os.fspath(s3_path)``
is the URI ``s3a://bucket/key``, which pandas and fsspec read through tfm_jupyter, and ``open(s3_path)``
or ``os.makedirs(s3_path)`` raise ``NotLocal``.
"""

from __future__ import annotations

import os
import pathlib
from abc import ABCMeta
from collections.abc import Callable, Iterator
from typing import Any

from . import errors
from .backends import get_backend, path_class_of, registered_scheme
from .guard import guard_local_file_system
from .names import unsafe_parts
from .storage_path import StatResult, StoragePath, TransferMethods, use_transfers, walk_tree
from .uri import PureS3Path, PureURIPath, one_slash_uri

__all__ = ["FSPATH_SCHEME", "LocalPath", "Path", "S3Path", "S3StatResult", "StoragePath", "path_class_for",
           "use_transfers", "walk_tree"]

FSPATH_SCHEME = "s3a"  # what os.fspath() of an S3 path starts with (see S3Path.__fspath__)

S3StatResult = StatResult  # the name the spec gives stat() results of S3 paths


class _PathMeta(ABCMeta):
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Path:
            return _make_path(args)
        return super().__call__(*args, **kwargs)


def _scheme_of(arg: Any) -> str | None:
    return arg.scheme if isinstance(arg, PureURIPath) else registered_scheme(arg)


def _make_path(args: tuple[Any, ...]) -> Any:
    for arg in args:
        if (meant := one_slash_uri(arg)) is not None:
            raise ValueError(f"{arg!r} has one slash after the scheme, so it would be a local file named like a "
                             f"URI: did you mean Path({meant!r})?")
    # Like an absolute component in pathlib, a scheme:// segment discards everything before it.
    for index in range(len(args) - 1, -1, -1):
        scheme = _scheme_of(args[index])
        if scheme:
            cls, first = path_class_for(scheme), args[index]
            if isinstance(first, str) and not cls.owns(first):  # an alias (abfs://): the scheme's own name
                first = scheme + first[first.index("://"):]
            return cls(first, *args[index + 1:])
    return LocalPath(*args)


_generic_classes: dict[str, type] = {}


def path_class_for(scheme: str) -> Any:
    """The path class of ``scheme``: :class:`S3Path`, the one registered with the backend, or a
    :class:`StoragePath` subclass made for it."""
    if scheme in ("s3", "s3a"):
        return S3Path
    registered = path_class_of(scheme)
    if registered is not None:
        return registered
    get_backend(scheme)  # KeyError for a scheme nobody registered
    if scheme not in _generic_classes:
        name = "".join(part.capitalize() for part in scheme.replace("+", "-").replace(".", "-").split("-")) + "Path"
        _generic_classes[scheme] = type(name, (StoragePath,), {"__slots__": (), "scheme": scheme})
    return _generic_classes[scheme]


class Path(metaclass=_PathMeta):
    """A local or storage path: ``Path('s3://bucket/key')`` or ``Path('/home/me/data.csv')``.

    ``isinstance(p, Path)`` is true for every kind.  See :class:`S3Path` and :class:`LocalPath`.
    """

    __slots__ = ()

    @classmethod
    def cwd(cls) -> LocalPath:
        return LocalPath.cwd()

    @classmethod
    def home(cls) -> LocalPath:
        return LocalPath.home()


Path.register(StoragePath)


# -- local paths -------------------------------------------------------------------------------------


class LocalPath(TransferMethods, type(pathlib.Path())):  # type: ignore[misc]
    """A real ``pathlib`` path (PosixPath on POSIX) with the extra methods of :class:`Path`."""

    __slots__ = ()

    @property
    def backend(self) -> Any:
        """The local file system's :class:`~tfm_jupyter.backends.Backend`."""
        return get_backend("file")

    def child(self, *names: str) -> Any:
        """This path joined with already-split names, each a single name as a listing gives it; a name
        that is not one (``..``, ``.``, empty, with a ``/`` or a NUL) raises
        :class:`~tfm_jupyter.errors.UnsafeName` instead of walking elsewhere."""
        reason = unsafe_parts(names)
        if reason is not None:
            raise errors.UnsafeName(f"refused: {reason}", str(self), "child")
        return super().joinpath(*names) if names else self

    @property
    def up(self) -> Any:
        """The folder a file manager shows above this one: the parent."""
        return self.parent

    is_listing_root = False  # a local folder is never the list of buckets

    def __truediv__(self, other: Any) -> Any:
        if _scheme_of(other):
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
            self._head = self._path.backend.head_metadata(self._path)
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


class S3Path(StoragePath, PureS3Path):
    """An object or prefix in S3 with pathlib's API (the generic one of
    :class:`~tfm_jupyter.storage_path.StoragePath` on the S3 backend, plus S3's own extras).

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

    def stat(self, *, follow_symlinks: bool = True) -> StatResult:
        """Size, mtime, ETag and storage class (0 requests when a listing of the parent is cached)."""
        return super().stat()

    def read_bytes(self) -> bytes:
        """The whole object: one GetObject (small objects may be served from the cache)."""
        return super().read_bytes()

    def write_bytes(self, data: Any) -> int:
        """Store ``data`` as the whole object (one PutObject; multipart above 64 MiB)."""
        return super().write_bytes(data)

    # -- buckets and markers ------------------------------------------------------------------------

    def mkdir(self, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        """Create the directory marker ``key/`` (or, for ``s3://bucket/``, the bucket)."""
        if not self._bucket:
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        if not self._parts:
            return self._make_bucket(exist_ok)
        return super().mkdir(mode, parents, exist_ok)

    def _make_parent(self, parent: Any, parents: bool) -> None:
        if not parent._parts:
            raise errors.BucketNotFound(
                f"No such bucket; create it first with Path('s3://{self._bucket}/').mkdir()", str(self), "mkdir")
        super()._make_parent(parent, parents)

    def _make_bucket(self, exist_ok: bool) -> None:
        if self.exists():
            if exist_ok:
                return
            raise errors.AlreadyExists("File exists", str(self), "mkdir")
        try:
            self.backend.make_dir(self)
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
            return self.backend.remove_dir(self)
        return super().rmdir()

    def rename(self, target: Any) -> S3Path:
        """Move to ``target`` (a full ``s3://`` path) inside S3, replacing an existing file there."""
        return super().rename(target)

    replace = rename

    # -- S3 extras ----------------------------------------------------------------------------------

    def _cached_api_call(self, operation: str, ttl: float | None = None, **params: Any) -> Any:
        """Run any boto3 S3 operation through the shared cache (read operations only are cached).

        ``Bucket`` (and ``Key`` where the operation takes one) default to this path's.
        """
        return self.backend.cached_api_call(self, operation, ttl, params)

    def presign(self, expires: int = 3600, method: str = "get") -> str:
        """A URL that grants ``method`` ('get' or 'put') on this object for ``expires`` seconds.

        It is computed locally (no request) and carries a signature: share it deliberately.
        """
        return super().presign(expires, method)

    def versions(self) -> list[Any]:
        """Every stored version of this object, newest first (ListObjectVersions)."""
        return self.backend.versions(self)

    @property
    def info(self) -> Any:
        """Python 3.14's ``PathInfo`` plus S3 metadata: size, mtime, etag, storage class, content type."""
        return S3PathInfo(self)
