"""S3 (and every S3-compatible endpoint) as a backend: the interface over :mod:`tfm_jupyter.s3`.

Each bucket goes to the store :func:`~tfm_jupyter.configure_s3` chose for it, with its cache.  The
fast paths S3 offers are used: a whole tree from one flat listing, whole small bodies from the
cache, ranged reads, multipart writes and batched deletes (server-side and cross-endpoint copies are
the transfer engine's, in :mod:`tfm_jupyter.s3.transfers`).  ``s3://`` (no bucket) is the list of
buckets; ``s3://bucket/`` is a bucket, made and removed as one.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from .. import errors
from ..cache import NOT_FOUND
from ..entries import DIRECTORY, Listing, ObjectInfo
from .base import Backend

__all__ = ["S3Backend"]


def _store() -> Any:
    from ..s3.stores import get_store

    return get_store()


class S3Backend(Backend):
    """S3 behind the backend interface; paths are :class:`~tfm_jupyter.uri.PureS3Path`."""

    label = "S3"

    def stat(self, path: Any) -> ObjectInfo | None:
        try:
            if not path.bucket:
                return DIRECTORY
            info = _store().bucket_info(path.bucket) if not path.key else _store().stat(path.bucket, path.key)
        except errors.NotFound:
            return None
        return None if info is NOT_FOUND else info

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        if not path.bucket:
            yield self.listdir(path)
            return
        yield from _store().iter_listing_pages(path.bucket, path.dir_prefix)

    def listdir(self, path: Any) -> Listing:
        if not path.bucket:
            return Listing(dict.fromkeys(_store().list_buckets(), DIRECTORY), is_bucket_root=True)
        return _store().listdir(path.bucket, path.dir_prefix)

    def tree(self, path: Any) -> dict[tuple[str, ...], Listing]:
        """Every directory below ``path`` from one flat listing (ceil(N/1000) requests)."""
        if not path.bucket:
            raise errors.UnsupportedOperation("a recursive listing of all buckets is not supported")
        root = path.dir_prefix
        return {_relative(prefix, root): listing for prefix, listing in _store().tree(path.bucket, root).items()}

    def forget(self, path: Any) -> None:
        if path.bucket:
            _store().forget_listing(path.bucket, path.dir_prefix)

    def open_read(self, path: Any) -> BinaryIO:
        from ..s3.io import open_reader

        return open_reader(_store(), path.bucket, _object_key(path, "open"))

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        from ..s3.io import S3Writer

        return S3Writer(_store(), path.bucket, _object_key(path, "open"), exclusive=exclusive)  # type: ignore[return-value]

    def open(self, path: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
             errors_: str | None = None, newline: str | None = None) -> Any:
        from ..s3.io import open_s3

        return open_s3(_store(), path.bucket, _object_key(path, "open"), mode, buffering, encoding, errors_,
                       newline, exists=lambda: self.stat(path) is not None)

    def read_bytes(self, path: Any) -> bytes:
        return _store().read(path.bucket, _object_key(path, "read"))

    def write_bytes(self, path: Any, data: bytes, *, exclusive: bool = False) -> None:
        """One PutObject; a managed multipart upload above 64 MiB."""
        from ..s3.io import SINGLE_PUT_LIMIT

        key = _object_key(path, "write")
        if len(data) > SINGLE_PUT_LIMIT and not exclusive:
            _store().upload(path.bucket, key, io.BytesIO(data), size=len(data))
        else:
            _store().write(path.bucket, key, bytes(data), exclusive=exclusive)

    def delete(self, path: Any) -> None:
        _store().delete(path.bucket, _object_key(path, "unlink"))

    def delete_many(self, paths: Iterable[Any]) -> dict[str, OSError]:
        """DeleteObjects, 1,000 keys a request, bucket by bucket."""
        by_bucket: dict[str, list[str]] = defaultdict(list)
        for path in paths:
            by_bucket[path.bucket].append(path.key)
        failed: dict[str, OSError] = {}
        for bucket, keys in by_bucket.items():
            for key, error in _store().delete_many(bucket, sorted(set(keys))).items():
                failed[f"s3://{bucket}/{key}"] = error
        return failed

    def make_dir(self, path: Any) -> None:
        """A bucket for ``s3://bucket/``, else the zero-byte marker object ``key/``."""
        if not path.bucket:
            raise errors.AlreadyExists("File exists", str(path), "mkdir")
        if not path.key:
            _store().create_bucket(path.bucket)
        else:
            _store().make_marker(path.bucket, path.dir_prefix)

    def remove_dir(self, path: Any) -> None:
        if not path.bucket:
            raise errors.AccessDenied("The root of all buckets cannot be removed", str(path), "rmdir")
        if not path.key:
            _store().delete_bucket(path.bucket)
        else:
            _store().remove_marker(path.bucket, path.dir_prefix)

    def head_metadata(self, path: Any) -> dict[str, Any]:
        """The object's full metadata from one HeadObject (cached)."""
        return _store().head_metadata(path.bucket, _object_key(path, "info"))


def _object_key(path: Any, operation: str) -> str:
    if not path.bucket or not path.key:
        raise errors.IsADirectory("Is a directory", str(path), operation)
    return path.key


def _relative(prefix: str, root: str) -> tuple[str, ...]:
    return tuple(prefix[len(root):-1].split("/")) if prefix != root else ()
