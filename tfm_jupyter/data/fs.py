"""fsspec filesystems on our storage layer: what pandas, pyarrow, polars, DuckDB and dask speak.

They are adapters, not second implementations: every call goes to the same backend as ``Path``, so
listings are cached, requests are counted by the meter and failures are our builtin-derived
errors.  One class serves every backend (``filesystem("s3")``, ``filesystem("sftp")``,
``filesystem("memory")`` …); paths are fsspec's ``authority/key`` (``bucket/key`` on S3), with or
without the ``scheme://`` in front.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from typing import Any

from fsspec.spec import AbstractFileSystem

from .. import errors
from ..backends import get_backend, registered_scheme
from ..entries import ObjectInfo
from ..path import Path

__all__ = ["S3FileSystem", "SharedReader", "StorageFileSystem", "arrow_filesystem", "filesystem"]

# Options s3fs takes that change who we are or where we go: they are s3fs's to serve.
S3FS_OPTIONS = frozenset({"anon", "key", "secret", "token", "endpoint_url", "client_kwargs", "config_kwargs",
                          "profile", "s3_additional_kwargs", "session", "requester_pays", "version_aware"})


class StorageFileSystem(AbstractFileSystem):
    """One backend's scheme for fsspec, served by tfm_jupyter's backend, cache and error mapping.

    Reads are ranged (``cat_file(start=, end=)``, seekable ``open('rb')``); ``open('wb')`` is the
    backend's all-or-nothing writer (nothing is written when the writing fails); ``find``/``glob``
    use one tree listing (one flat listing on S3); ``cp_file`` copies within the storage
    (server-side on S3).
    """

    protocol: Any = ("memory",)
    root_marker = ""

    @property
    def scheme(self) -> str:
        return self.protocol[0] if isinstance(self.protocol, tuple) else self.protocol

    def _path(self, path: str) -> Any:
        return Path(f"{self.scheme}://{self._strip_protocol(path)}")

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        text = str(path)
        for protocol in (cls.protocol if isinstance(cls.protocol, tuple) else (cls.protocol,)):
            prefix = f"{protocol}://"
            if text[:len(prefix)].lower() == prefix:
                text = text[len(prefix):]
                break
        return text.rstrip("/")

    # -- what exists -------------------------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        where = self._path(path)
        listing = where.backend.listdir(where)
        if not listing.exists:
            info = self.info(path)  # a file lists as itself (like fsspec's local filesystem), else NotFound
            return [info] if detail else [info["name"]]
        base = f"{path}/" if path else ""
        entries = [_entry(base + name, info) for name, info in sorted(listing.children.items()) if name]
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        where = self._path(path)
        # On S3 one flat listing from the key answers what it is *and* lists the tree below it, which
        # is what pyarrow asks next (isdir, then find) when it opens a dataset.
        found = where.backend.survey(where).info
        if found is None:
            noun = "bucket" if where.parent == where and not where.is_listing_root else "file or directory"
            raise errors.NotFound(f"No such {noun}", str(where), "info")
        return _entry(path, found)

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Everything below ``path`` from one tree listing, sorted by name; ``maxdepth`` counts levels
        below ``path`` as fsspec does."""
        path = self._strip_protocol(path)
        where = self._path(path)
        if where.is_listing_root:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        found: dict[str, dict[str, Any]] = {}
        survey = where.backend.survey(where)  # also lists (and caches) the tree below it
        if survey.info is not None and survey.info.is_file:
            found[path] = _entry(path, survey.info)
        for page in survey.pages or ():
            for rel, listing in page.items():
                depth = len(rel) + 1  # of this directory's children below `path`
                if maxdepth is not None and depth > maxdepth:
                    continue
                base = "/".join((path, *rel))
                for name, info in listing.children.items():
                    if name and (info.is_file or withdirs):
                        found[f"{base}/{name}"] = _entry(f"{base}/{name}", info)
        ordered = dict(sorted(found.items()))
        return ordered if detail else list(ordered)

    # -- reading and writing -----------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> Any:
        where = self._path(path)
        if mode == "rb":
            return SharedReader(where.backend.open_read(where))
        if mode in ("wb", "xb"):
            if mode == "xb" and self.exists(path):
                raise errors.AlreadyExists("File exists", str(where), "open")
            return where.backend.open_write(where, exclusive=mode == "xb")  # a failing writer writes nothing
        raise ValueError(f"mode {mode!r}: files are read ('rb') or written whole ('wb', 'xb')")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """The file, or bytes ``start`` to ``end`` (exclusive, like fsspec) with one ranged read."""
        where = self._path(path)
        if start is None and end is None:
            return where.backend.read_bytes(where)
        first, last = start or 0, end
        if first < 0 or last is None or last < 0:  # relative to the size (cached after a listing)
            size = self.info(path)["size"]
            first = size + first if first < 0 else first
            last = size if last is None else (size + last if last < 0 else last)
        return where.backend.read_range(where, first, last) if last > first else b""

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        where = self._path(path)
        where.backend.write_bytes(where, bytes(value), exclusive=mode == "create")

    # -- changing things -----------------------------------------------------------------------------

    def rm_file(self, path: str) -> None:
        self._path(path).unlink()

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        files, directories = [], []
        for each in self.expand_path(path, recursive=recursive, maxdepth=maxdepth):
            where = self._path(each)
            info = where.backend.stat(where)
            if info is not None and info.is_file:
                files.append(where)
            if info is not None and info.is_dir and _exists_in_its_own_right(where):
                directories.append(where)
        if not files and not directories:
            return
        failed = (files or directories)[0].backend.delete_tree(files, directories)
        if failed:
            raise errors.TransferError(f"{len(failed)} files could not be deleted", dict(failed), str(path))

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """A bucket (container) is created; below it an object store makes nothing (it has no folders
        until a file is written, so no marker object is left behind, as s3fs does); a file system
        makes the folder."""
        where = self._path(path)
        if where.parent == where:
            where.mkdir(exist_ok=False)
        elif not where.backend.implicit_dirs:
            if create_parents:
                where.backend.make_dirs(where)
            else:
                where.mkdir()

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        where = self._path(path)
        if where.parent == where:
            if not exist_ok:  # with exist_ok, asking would cost a request that changes nothing
                where.mkdir()
        elif not where.backend.implicit_dirs:
            if not exist_ok and where.exists():
                raise errors.AlreadyExists("File exists", str(where), "makedirs")
            where.backend.make_dirs(where)

    def rmdir(self, path: str) -> None:
        self._path(path).rmdir()

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy one file within the storage (server-side on S3: no bytes through here).  A directory
        (fsspec hands them over in recursive copies) is made at the target, as fsspec's local
        filesystem does."""
        from ..transfer import FileJob, TransferPlan, execute

        source, target = self._path(path1), self._path(path2)
        info = source.backend.stat(source)
        if info is None:
            raise errors.NotFound("No such file or directory", str(source), "copy")
        if not info.is_file:
            self.makedirs(path2, exist_ok=True)
            return
        execute(TransferPlan(source, target, files=[FileJob(source, target, info.size, info.etag)]), progress=False)

    def created(self, path: str) -> Any:
        return self.modified(path)

    def modified(self, path: str) -> Any:
        mtime = self.info(path).get("mtime")
        if mtime is None:
            raise errors.IsADirectory("a directory has no time", str(self._path(path)), "modified")
        return datetime.fromtimestamp(mtime, tz=UTC)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget cached listings (fsspec's refresh hook; writes through us never need it); without
        a path, everything this scheme's backend caches (every endpoint's)."""
        where = self._path(path or "")
        where.backend.forget(where)


class S3FileSystem(StorageFileSystem):
    """``s3://`` (and ``s3a://``) for fsspec.  Given s3fs's own options (``key=``, ``anon=``,
    ``endpoint_url=`` …), an ``s3fs.S3FileSystem`` is built instead, so code written for s3fs keeps
    working exactly as before."""

    protocol = ("s3", "s3a")

    def __new__(cls, *args: Any, **options: Any) -> Any:
        if S3FS_OPTIONS & set(options):
            try:
                import s3fs
            except ImportError:
                raise TypeError(
                    f"{sorted(S3FS_OPTIONS & set(options))} are s3fs options; install s3fs for them, or set "
                    "endpoints and credentials with tfm_jupyter.configure_s3(...)") from None
            return s3fs.S3FileSystem(*args, **options)
        return super().__new__(cls)


def _exists_in_its_own_right(where: Any) -> bool:
    """A folder, a bucket, or a prefix with a marker object (a plain prefix vanishes with its keys)."""
    if not where.backend.implicit_dirs:
        return True
    return where.backend.listdir(where).marker is not None


class SharedReader(io.BufferedIOBase):
    """A binary reader that several threads may use at once, each at its own position.

    DuckDB reads one file object from many threads, each as "seek, then read"; with one shared
    position two threads would read each other's bytes.  Here a seek moves only the calling
    thread's position, and each read happens at it under a lock.
    """

    def __init__(self, inner: Any):
        super().__init__()
        self._inner = inner
        self._lock = threading.Lock()
        self._local = threading.local()
        self.name = getattr(inner, "name", None)
        with self._lock:
            self._size = inner.seek(0, io.SEEK_END)
            inner.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return getattr(self._local, "position", 0)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(22, "Invalid argument: negative seek position")
        self._local.position = base + offset
        return self._local.position

    def read(self, size: int | None = -1) -> bytes:
        with self._lock:
            self._inner.seek(self.tell())
            data = self._inner.read(size if size is not None and size >= 0 else -1)
        self._local.position = self.tell() + len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _entry(name: str, info: ObjectInfo) -> dict[str, Any]:
    if not info.is_file:
        return _directory(name)
    return {"name": name, "size": info.size, "type": "file", "mtime": info.mtime, "ETag": info.etag,
            "StorageClass": info.storage_class, "ContentType": info.content_type}


def _directory(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "type": "directory"}


_classes: dict[str, type[StorageFileSystem]] = {"s3": S3FileSystem, "s3a": S3FileSystem}
_classes_lock = threading.Lock()


def filesystem(protocol: str = "s3") -> StorageFileSystem:
    """The fsspec filesystem of a scheme (``"s3"``, ``"sftp"``, ``"ftp"``, ``"memory"``, ``"az"``,
    ``"gs"``, …): pass it as ``filesystem=`` to pandas, dask, pyarrow …"""
    scheme = protocol.lower().removesuffix("://")
    if registered_scheme(f"{scheme}://") is None:
        raise ValueError(f"no storage backend serves {scheme}:// (see tfm_jupyter.backends.register_backend)")
    get_backend(scheme)
    with _classes_lock:
        cls = _classes.get(scheme)
        if cls is None:
            name = "".join(part.capitalize() for part in scheme.replace("+", "-").split("-")) + "FileSystem"
            cls = _classes[scheme] = type(name, (StorageFileSystem,), {"protocol": (scheme,)})
    return cls()


def arrow_filesystem(protocol: str = "s3") -> Any:
    """A ``pyarrow.fs.FileSystem`` on :func:`filesystem`, for pyarrow's (and pandas') ``filesystem=``:
    pyarrow's own clients then never see the request, our cache and meter do.  Paths may be
    ``bucket/key`` or ``s3://bucket/key`` strings: ``pq.read_table(str(p), filesystem=...)``."""
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    class Handler(FSSpecHandler):  # type: ignore[misc]
        def normalize_path(self, path: str) -> str:
            return self.fs._strip_protocol(path)  # pyarrow would otherwise keep "s3://" in base dirs

    return PyFileSystem(Handler(filesystem(protocol)))
