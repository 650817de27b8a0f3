"""An fsspec filesystem on our storage layer: what pandas, pyarrow, polars, DuckDB and dask speak.

It is an adapter, not a second implementation: every call goes to the same store as ``Path``, so
listings are cached, requests are counted by the meter and failures are our builtin-derived
errors.  Paths are fsspec's ``bucket/key`` (``s3://`` is accepted and stripped).
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from typing import Any

from fsspec.spec import AbstractFileSystem

from .. import errors
from ..cache import NOT_FOUND
from ..s3.entries import ObjectInfo
from ..s3.io import S3Writer, open_reader
from ..s3.stores import clear_s3_cache, get_store

__all__ = ["S3FileSystem", "SharedReader", "arrow_filesystem", "filesystem"]

# Options s3fs takes that change who we are or where we go: they are s3fs's to serve.
S3FS_OPTIONS = frozenset({"anon", "key", "secret", "token", "endpoint_url", "client_kwargs", "config_kwargs",
                          "profile", "s3_additional_kwargs", "session", "requester_pays", "version_aware"})


class S3FileSystem(AbstractFileSystem):
    """``s3://`` for fsspec, served by tfm_jupyter's cache, client and error mapping.

    Reads are ranged (``cat_file(start=, end=)``, seekable ``open('rb')``); ``open('wb')`` spools and
    uploads on close, and uploads nothing when the ``with`` block raises; ``find``/``glob`` use one
    flat listing; ``cp_file`` is a server-side copy.  Given s3fs's own options (``key=``,
    ``anon=``, ``endpoint_url=`` ...), an ``s3fs.S3FileSystem`` is built instead, so code written
    for s3fs keeps working exactly as before.
    """

    protocol = ("s3", "s3a")
    root_marker = ""

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

    def __init__(self, *args: Any, **options: Any):
        super().__init__(*args, **options)
        self.store = get_store()

    # -- what exists ---------------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        text = str(path)
        for prefix in ("s3://", "s3a://"):
            if text.startswith(prefix):
                text = text[len(prefix):]
        return text.rstrip("/")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        if not bucket:
            entries = [_directory(name) for name in self.store.list_buckets()]
        else:
            listing = self.store.listdir(bucket, key + "/" if key else "")
            if not listing.exists and not key:
                self._require_bucket(bucket)
            if not listing.exists and key:
                info = self.info(path)  # a file lists as itself, like fsspec's local filesystem
                return [info] if detail else [info["name"]]
            entries = [_entry(f"{path}/{name}", info) for name, info in sorted(listing.children.items()) if name]
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        if not bucket:
            return _directory("")
        if not key:
            self._require_bucket(bucket)
            return _directory(bucket)
        # One flat listing from the key answers what it is *and* lists the tree below it, which is
        # what pyarrow asks next (isdir, then find) when it opens a dataset.
        found = self.store.survey(bucket, key)
        if found is NOT_FOUND:
            raise errors.NotFound("No such file or directory", f"s3://{path}", "info")
        return _entry(path, found)

    def _require_bucket(self, bucket: str) -> None:
        if self.store.bucket_info(bucket) is NOT_FOUND:
            raise errors.BucketNotFound("No such bucket", f"s3://{bucket}/", "info")

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Everything below ``path`` from one flat listing (⌈N/1000⌉ requests), sorted by name;
        ``maxdepth`` counts levels below ``path`` as fsspec does."""
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        if not bucket:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        found: dict[str, dict[str, Any]] = {}
        if key:
            single = self.store.survey(bucket, key)  # also lists (and caches) the tree below it
            if single is not NOT_FOUND and single.is_file:
                found[path] = _entry(path, single)
        root = key + "/" if key else ""
        for prefix, listing in self.store.tree(bucket, root).items():
            depth = prefix[len(root):].count("/") + 1  # of this directory's children below `path`
            if maxdepth is not None and depth > maxdepth:
                continue
            base = f"{bucket}/{prefix}".rstrip("/")
            for name, info in listing.children.items():
                if name and (info.is_file or withdirs):
                    found[f"{base}/{name}"] = _entry(f"{base}/{name}", info)
        ordered = dict(sorted(found.items()))
        return ordered if detail else list(ordered)

    # -- reading and writing -------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> Any:
        bucket, key = _split(self._strip_protocol(path))
        if not key:
            raise errors.IsADirectory("Is a directory", f"s3://{bucket}/", "open")
        if mode == "rb":
            return SharedReader(open_reader(self.store, bucket, key))
        if mode in ("wb", "xb"):
            if mode == "xb" and self.exists(path):
                raise errors.AlreadyExists("File exists", f"s3://{bucket}/{key}", "open")
            return S3Writer(self.store, bucket, key, exclusive=mode == "xb")  # a failing `with` uploads nothing
        raise ValueError(f"mode {mode!r}: S3 objects are read ('rb') or written whole ('wb', 'xb')")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """The object, or bytes ``start`` to ``end`` (exclusive, like fsspec) with one ranged GET."""
        bucket, key = _split(self._strip_protocol(path))
        if start is None and end is None:
            return self.store.read(bucket, key)
        first, last = start or 0, end
        if first < 0 or last is None or last < 0:  # relative to the size (cached after a listing)
            size = self.info(path)["size"]
            first = size + first if first < 0 else first
            last = size if last is None else (size + last if last < 0 else last)
        if last <= first:
            return b""
        return self.store.read_range(bucket, key, first, last - 1)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        bucket, key = _split(self._strip_protocol(path))
        self.store.write(bucket, key, bytes(value), exclusive=mode == "create")

    # -- changing things -------------------------------------------------------------------------

    def rm_file(self, path: str) -> None:
        from ..path import Path

        Path(f"s3://{self._strip_protocol(path)}").unlink()

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        paths = self.expand_path(path, recursive=recursive, maxdepth=maxdepth)
        by_bucket: dict[str, list[str]] = {}
        for each in paths:
            bucket, key = _split(each)
            info = self.store.stat(bucket, key) if key else NOT_FOUND
            if info is not NOT_FOUND and info.is_file:
                by_bucket.setdefault(bucket, []).append(key)
            if info is not NOT_FOUND and info.is_dir and self.store.listdir(bucket, key + "/").marker is not None:
                by_bucket.setdefault(bucket, []).append(key + "/")  # its marker (the listing is cached by then)
        for bucket, keys in by_bucket.items():
            failed = self.store.delete_many(bucket, sorted(set(keys)))
            if failed:
                raise errors.TransferError(f"{len(failed)} objects could not be deleted", dict(failed), bucket)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """As s3fs does: a bucket is created; below it there is nothing to make (S3 has no folders
        until an object is written), so no marker object is left behind."""
        bucket, key = _split(self._strip_protocol(path))
        if not key:
            from ..path import Path

            Path(f"s3://{bucket}/").mkdir(exist_ok=False)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        bucket, key = _split(self._strip_protocol(path))
        if not key and not exist_ok:
            self.mkdir(bucket)

    def rmdir(self, path: str) -> None:
        from ..path import Path

        Path(f"s3://{self._strip_protocol(path)}/").rmdir()

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Server-side copy of one object (CopyObject, multipart above 5 GiB; no bytes through here)."""
        from ..path import Path
        from ..transfer import FileJob, TransferPlan, execute

        source, target = Path(f"s3://{self._strip_protocol(path1)}"), Path(f"s3://{self._strip_protocol(path2)}")
        info = self.info(path1)
        if info["type"] != "file":
            raise errors.IsADirectory("Is a directory (copy a tree with cp(..., recursive=True))", str(source), "copy")
        execute(TransferPlan(source, target, files=[FileJob(source, target, info["size"], info.get("ETag"))]),
                progress=False)

    def created(self, path: str) -> Any:
        return self.modified(path)

    def modified(self, path: str) -> Any:
        mtime = self.info(path).get("mtime")
        if mtime is None:
            raise IsADirectoryError(f"s3://{self._strip_protocol(path)} is a directory: it has no time")
        return datetime.fromtimestamp(mtime, tz=UTC)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget cached listings (fsspec's refresh hook; writes through us never need it)."""
        if path is None:
            clear_s3_cache()  # every endpoint's
            return
        bucket, key = _split(self._strip_protocol(path))
        self.store.forget_listing(bucket, key + "/" if key else "")


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


def _split(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    return bucket, key


def _entry(name: str, info: ObjectInfo) -> dict[str, Any]:
    if not info.is_file:
        return _directory(name)
    return {"name": name, "size": info.size, "type": "file", "mtime": info.mtime, "ETag": info.etag,
            "StorageClass": info.storage_class, "ContentType": info.content_type}


def _directory(name: str) -> dict[str, Any]:
    return {"name": name, "size": 0, "type": "directory"}


def filesystem() -> S3FileSystem:
    """The fsspec filesystem behind ``s3://`` (pass it as ``filesystem=`` to pandas, dask, pyarrow...)."""
    return S3FileSystem()


def arrow_filesystem() -> Any:
    """A ``pyarrow.fs.FileSystem`` on :func:`filesystem`, for pyarrow's (and pandas') ``filesystem=``:
    pyarrow's own S3 client then never sees the request, our cache and meter do.  Paths may be
    ``bucket/key`` or ``s3://bucket/key`` strings: ``pq.read_table(str(p), filesystem=...)``."""
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    class Handler(FSSpecHandler):  # type: ignore[misc]
        def normalize_path(self, path: str) -> str:
            return self.fs._strip_protocol(path)  # pyarrow would otherwise keep "s3://" in base dirs

    return PyFileSystem(Handler(filesystem()))
