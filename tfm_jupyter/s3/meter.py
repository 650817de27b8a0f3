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

__all__ = ["PRICES_TAKEN", "configure_s3_prices", "estimate_cost", "price_per_request"]

PRICES_TAKEN = "2026-11-25"
_DEFAULT_PER_1000 = {"tier1": 0.005, "tier2": 0.0004}
# S3 bills PUT, COPY, POST and LIST as one class; deleting and aborting are free.
TIER1 = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "ListBuckets", "ListObjectVersions",
         "ListMultipartUploads", "ListParts", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
         "CompleteMultipartUpload", "CreateBucket", "PutBucketVersioning", "PutObjectTagging"}
FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload", "DeleteBucket"}

_lock = threading.Lock()
_per_1000 = dict(_DEFAULT_PER_1000)


def configure_s3_prices(tier1_per_1000: float | None = None, tier2_per_1000: float | None = None,
                        *, reset: bool = False) -> dict[str, float]:
    """Set the USD price per 1,000 requests: ``tier1`` (PUT, COPY, POST, LIST), ``tier2`` (GET, HEAD, ...)."""
    with _lock:
        if reset:
            _per_1000.update(_DEFAULT_PER_1000)
        if tier1_per_1000 is not None:
            _per_1000["tier1"] = tier1_per_1000
        if tier2_per_1000 is not None:
            _per_1000["tier2"] = tier2_per_1000
        return dict(_per_1000)


def price_per_request(operation: str) -> float:
    if operation in FREE:
        return 0.0
    with _lock:
        return _per_1000["tier1" if operation in TIER1 else "tier2"] / 1000


def estimate_cost(counts: Mapping[str, int]) -> float:
    """USD for these requests at the configured prices."""
    return sum(price_per_request(operation) * count for operation, count in counts.items())
