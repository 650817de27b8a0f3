"""``_cached_api_call``: any boto3 S3 operation through the shared cache (the spec's escape hatch)."""

from __future__ import annotations

from typing import Any

from .entries import split_key

__all__ = ["cached_api_call", "is_read_operation"]

_READ_PREFIXES = ("head_", "get_", "list_")


def is_read_operation(operation: str) -> bool:
    """Operations that only read (``head_*``, ``get_*``, ``list_*``) may be cached.

    ``get_object`` is the exception: its streaming body can be read only once.
    """
    return operation.startswith(_READ_PREFIXES) and operation != "get_object"


def cached_api_call(store: Any, bucket: str, key: str, operation: str, ttl: float | None,
                    params: dict[str, Any]) -> Any:
    """Call ``operation`` with ``params`` (Bucket/Key defaulting to the path's), caching reads.

    A write operation (put, delete, copy, ...) is never cached and updates the cache for the keys
    it touched, like every other write.
    """
    params.setdefault("Bucket", bucket)
    if "Key" not in params and key and store.client.operation_takes(operation, "Key"):
        params["Key"] = key
    bucket, key = params["Bucket"], params.get("Key", params.get("Prefix", ""))
    if is_read_operation(operation):
        cache_params = {name: value for name, value in params.items() if name not in ("Bucket", "Key")}
        return store.cache.get_or_load(operation, bucket, key, lambda: store.client.call(operation, **params),
                                       ttl, **cache_params)
    try:
        response = store.client.call(operation, **params)
    except BaseException:
        if key:
            store.forget_key(bucket, key)
        else:
            store.cache.invalidate_bucket(bucket)
        raise
    _after_write(store, operation, bucket, key)
    return response


def _after_write(store: Any, operation: str, bucket: str, key: str) -> None:
    if operation in ("put_object", "copy_object", "complete_multipart_upload") and key:
        store.record_put(bucket, key, None)
    elif operation == "delete_object" and key:
        store.record_delete(bucket, key)
        store.record_tree_change(bucket, split_key(key)[0])
    else:
        store.cache.invalidate_bucket(bucket)
