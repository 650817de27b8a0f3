"""The request meter: what S3 requests cost, and what the cache saved.

Requests are counted by :mod:`client` (every HTTP attempt, retries included); saved requests by
the cache (a cached answer that replaced a request - a listing of N keys replaces ceil(N/1000)).
Costs use per-request prices you can change with :func:`configure_s3_prices`.  The defaults are
the public S3 Standard request prices for US East (N. Virginia), as published on
https://aws.amazon.com/s3/pricing/ and quoted unchanged by third-party guides reviewed 2026-02-07;
taken for this release on 2026-11-25.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["PRICES_TAKEN", "configure_s3_prices", "estimate_cost", "price_per_request", "storage_price"]

PRICES_TAKEN = "2026-11-25"
_DEFAULT_PER_1000 = {"tier1": 0.005, "tier2": 0.0004}
# S3 bills PUT, COPY, POST and LIST as one class; deleting and aborting are free.
TIER1 = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "ListBuckets", "ListObjectVersions",
         "ListMultipartUploads", "ListParts", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
         "CompleteMultipartUpload", "CreateBucket", "PutBucketVersioning", "PutObjectTagging"}
FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload", "DeleteBucket"}

# USD per GB-month by storage class (US East, first 50 TB; the same page and date as the requests).
_DEFAULT_STORAGE = {"STANDARD": 0.023, "INTELLIGENT_TIERING": 0.023, "STANDARD_IA": 0.0125, "ONEZONE_IA": 0.01,
                    "GLACIER_IR": 0.004, "GLACIER": 0.0036, "DEEP_ARCHIVE": 0.00099, "REDUCED_REDUNDANCY": 0.024,
                    "EXPRESS_ONEZONE": 0.11}

_lock = threading.Lock()
_per_1000 = dict(_DEFAULT_PER_1000)
_storage = dict(_DEFAULT_STORAGE)


def configure_s3_prices(tier1_per_1000: float | None = None, tier2_per_1000: float | None = None,
                        *, storage_per_gb_month: Mapping[str, float] | None = None,
                        reset: bool = False) -> dict[str, Any]:
    """Set the USD price per 1,000 requests: ``tier1`` (PUT, COPY, POST, LIST), ``tier2`` (GET, HEAD, ...),
    and per GB-month of storage by storage class (``storage_per_gb_month={"STANDARD": 0.021}``)."""
    with _lock:
        if reset:
            _per_1000.update(_DEFAULT_PER_1000)
            _storage.clear()
            _storage.update(_DEFAULT_STORAGE)
        if tier1_per_1000 is not None:
            _per_1000["tier1"] = tier1_per_1000
        if tier2_per_1000 is not None:
            _per_1000["tier2"] = tier2_per_1000
        _storage.update({name.upper(): price for name, price in (storage_per_gb_month or {}).items()})
        return {**_per_1000, "storage_per_gb_month": dict(_storage)}


def storage_price(storage_class: str | None) -> float | None:
    """USD per GB-month of ``storage_class`` (no class: STANDARD, as S3 lists it); None if unknown."""
    with _lock:
        return _storage.get((storage_class or "STANDARD").upper())


def price_per_request(operation: str) -> float:
    if operation in FREE:
        return 0.0
    with _lock:
        return _per_1000["tier1" if operation in TIER1 else "tier2"] / 1000


def estimate_cost(counts: Mapping[str, int]) -> float:
    """USD for these requests at the configured prices."""
    return sum(price_per_request(operation) * count for operation, count in counts.items())
