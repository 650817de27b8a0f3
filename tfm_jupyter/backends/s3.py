"""S3 (and every S3-compatible endpoint) as a backend: the interface over :mod:`tfm_jupyter.s3`.

Each bucket goes to the store :func:`~tfm_jupyter.configure_s3` chose for it, with its cache.  The
fast paths S3 offers are used: a whole tree from one flat listing (big trees streamed page by page,
folders listed in parallel), whole small bodies from the cache, ranged reads, multipart writes,
batched deletes, and transfers through boto3's managed transfers (server-side copies within one
client, streamed across clients, parallel uploads and downloads); see :mod:`.s3_batch`.  ``s3://``
(no bucket) is the list of buckets; ``s3://bucket/`` is a bucket, made and removed as one.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from .. import errors
from ..cache import NOT_FOUND
from ..entries import DIRECTORY, Listing, ObjectInfo, Survey, Tree, relative_components
from .base import Backend
from .batch import Batch, FileJob, Progress

__all__ = ["S3Backend"]


def _store() -> Any:
    from ..s3.stores import get_store

    return get_store()


class S3Backend(Backend):
    """S3 behind the backend interface; paths are :class:`~tfm_jupyter.uri.PureS3Path`."""

    label = "S3"
    literal_names = True
    implicit_dirs = True

    @property
    def concurrency(self) -> int:  # type: ignore[override]
        from ..s3.client import registry

        return registry.default_settings.small_file_concurrency

    # -- what exists -----------------------------------------------------------------------------

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
            return Listing(dict.fromkeys(_store().list_buckets(), DIRECTORY), dir_exists=True)
        return _store().listdir(path.bucket, path.dir_prefix)

    def cached_listing(self, path: Any) -> Listing | None:
        return _store().known_listing(path.bucket, path.dir_prefix) if path.bucket else None

    def tree(self, path: Any) -> Tree:
        """Every directory below ``path`` from one flat listing (ceil(N/1000) requests)."""
        if not path.bucket:
            raise errors.UnsupportedOperation("a recursive listing of all buckets is not supported; open a bucket")
        root = path.dir_prefix
        tree = _store().tree(path.bucket, root)
        return {relative_components(prefix, root): listing for prefix, listing in tree.items()}

    def survey(self, path: Any, *, stream: bool = False) -> Survey:
        """One flat ListObjectsV2 from ``Prefix=key`` answers what lives here and lists the tree below;
        with ``stream``, a tree of more than one page comes page by page as it is listed."""
        if not path.bucket or not path.key:
            return super().survey(path, stream=stream)
        store, root = _store(), path.dir_prefix
        if stream:
            pages = store.survey_or_stream(path.bucket, path.key)
            if pages is not None:
                from ..s3.entries import tree_from_pages

                trees = ({relative_components(prefix, root): listing
                          for prefix, listing in tree_from_pages(root, [page]).items()} for page in pages)
                return Survey(DIRECTORY, trees, streamed=True)
        info = store.survey(path.bucket, path.key)
        if info is NOT_FOUND:
            return Survey(None)
        return Survey(info, (self.tree(path) for _ in range(1)) if info.is_dir else None)

    def forget(self, path: Any) -> None:
        """Drop what the cache holds below ``path``; below ``s3://``, every endpoint's whole cache."""
        if path.bucket:
            _store().forget_listing(path.bucket, path.dir_prefix)
        else:
            from ..s3.stores import clear_s3_cache

            clear_s3_cache()

    # -- reading ---------------------------------------------------------------------------------

    def open_read(self, path: Any) -> BinaryIO:
        from ..s3.io import open_reader

        return open_reader(_store(), path.bucket, _object_key(path, "open"))

    def open(self, path: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
             errors_: str | None = None, newline: str | None = None) -> Any:
        from ..s3.io import open_s3

        return open_s3(_store(), path.bucket, _object_key(path, "open"), mode, buffering, encoding, errors_,
                       newline, exists=lambda: self.stat(path) is not None)

    def read_bytes(self, path: Any) -> bytes:
        return _store().read(path.bucket, _object_key(path, "read"))

    def iter_bytes(self, path: Any, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """One (ranged) GetObject, streamed."""
        key = _object_key(path, "read")
        if end is not None and end <= start:
            return
        _, body = _store().open_stream(path.bucket, key, start, None if end is None else end - 1)
        try:
            while chunk := body.read(64 * 1024):
                yield chunk
        finally:
            body.close()

    def read_range(self, path: Any, start: int, end: int) -> bytes:
        """One ranged GetObject (nothing when the cache holds the whole body)."""
        if end <= start:
            return b""
        return _store().read_range(path.bucket, _object_key(path, "read"), start, end - 1)

    def metadata(self, path: Any) -> dict[str, Any]:
        """The object's full metadata from one HeadObject (cached)."""
        return _store().head_metadata(path.bucket, _object_key(path, "info"))

    head_metadata = metadata

    # -- writing -----------------------------------------------------------------------------------

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        from ..s3.io import S3Writer

        return S3Writer(_store(), path.bucket, _object_key(path, "open"), exclusive=exclusive)  # type: ignore[return-value]

    def write_bytes(self, path: Any, data: bytes, *, exclusive: bool = False) -> None:
        """One PutObject; a managed multipart upload above 64 MiB."""
        from ..s3.io import SINGLE_PUT_LIMIT

        key = _object_key(path, "write")
        if len(data) > SINGLE_PUT_LIMIT and not exclusive:
            _store().upload(path.bucket, key, io.BytesIO(data), size=len(data))
        else:
            _store().write(path.bucket, key, bytes(data), exclusive=exclusive)

    def make_dir(self, path: Any) -> None:
        """A bucket for ``s3://bucket/``, else the zero-byte marker object ``key/``."""
        if not path.bucket:
            raise errors.AlreadyExists("File exists", str(path), "mkdir")
        if not path.key:
            _store().create_bucket(path.bucket)
        else:
            _store().make_marker(path.bucket, path.dir_prefix)

    def make_dirs(self, path: Any) -> None:
        """A marker for ``path`` (no existence check, no markers above: prefixes need none)."""
        if path.bucket and path.key:
            _store().make_marker(path.bucket, path.dir_prefix)

    # -- deleting ------------------------------------------------------------------------------------

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

    def delete_tree(self, files: Iterable[Any], directories: Iterable[Any]) -> dict[str, OSError]:
        """The files and the directories' markers in the same DeleteObjects batches."""
        return self.delete_many([*files, *(d.child("") for d in directories if d.key)])

    def remove_dir(self, path: Any) -> None:
        if not path.bucket:
            raise errors.AccessDenied("The root of all buckets cannot be removed", str(path), "rmdir")
        if not path.key:
            _store().delete_bucket(path.bucket)
        else:
            _store().remove_marker(path.bucket, path.dir_prefix)

    # -- transfers -------------------------------------------------------------------------------------

    def batch_from(self, source: Backend) -> Batch | None:
        """Server-side copies (CopyObject; streamed between two endpoints) from S3, managed uploads from
        the local disk."""
        from .local import LocalBackend
        from .s3_batch import S3Batch

        if isinstance(source, S3Backend):
            return S3Batch("copy")
        if isinstance(source, LocalBackend):
            return S3Batch("upload")
        return None

    def batch_to(self, target: Backend) -> Batch | None:
        """Managed downloads (parallel ranged GETs for big objects) to the local disk."""
        from .local import LocalBackend
        from .s3_batch import S3Batch

        return S3Batch("download") if isinstance(target, LocalBackend) else None

    def copy_within(self, job: FileJob, on_progress: Progress, stop: Any) -> None:
        """One server-side copy (CopyObject; multipart above 5 GiB)."""
        from .s3_batch import S3Batch

        batch = S3Batch("copy")
        try:
            batch.result(job, batch.submit(job, on_progress))
        finally:
            batch.close()

    # -- S3's extras ---------------------------------------------------------------------------------------

    def presign(self, path: Any, expires: int, method: str) -> str:
        """A SigV4 presigned URL (computed locally: no request)."""
        operations = {"get": "get_object", "put": "put_object"}
        client = _store().store_for(path.bucket).client
        return client.presign(operations[method], {"Bucket": path.bucket, "Key": path.key}, expires)

    def cached_api_call(self, path: Any, operation: str, ttl: float | None, params: dict[str, Any]) -> Any:
        """Any boto3 S3 operation through the bucket's cache (see ``S3Path._cached_api_call``)."""
        from ..s3.calls import cached_api_call

        return cached_api_call(_store().store_for(path.bucket), path.bucket, path.key, operation, ttl, params)

    def versions(self, path: Any) -> list[Any]:
        """Every stored version of the object, newest first (ListObjectVersions)."""
        from ..s3.versions import list_versions

        return list_versions(path)

    def request_counts(self) -> Counter[str]:
        from ..s3.client import request_counts

        return request_counts()

    def saved_counts(self) -> Counter[str]:
        from ..s3.stores import saved_counts

        return saved_counts()

    def request_cost(self, operation: str) -> float:
        from ..s3.meter import price_per_request

        return price_per_request(operation)

    def storage_price(self, storage_class: str | None) -> float | None:
        from ..s3.meter import storage_price

        return storage_price(storage_class)


def _object_key(path: Any, operation: str) -> str:
    if not path.bucket or not path.key:
        raise errors.IsADirectory("Is a directory", str(path), operation)
    return path.key
