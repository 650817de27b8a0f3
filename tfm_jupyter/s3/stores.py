"""Which store serves a bucket, and the cache API of the spec (``get_s3_cache``, ``configure_s3_cache``,
``get_s3_cache_stats``, ``clear_s3_cache``) over every endpoint's cache."""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

from ..cache import S3Cache
from . import client
from .entries import decode, encode
from .meter import PRICES_TAKEN, estimate_cost
from .store import BODY_CACHE_LIMIT, S3Store

__all__ = ["Stores", "clear_s3_cache", "configure_s3_cache", "get_s3_cache", "get_s3_cache_stats", "get_store",
           "saved_counts"]


class Stores:
    """The store of each bucket: one :class:`S3Store` (and cache) per configured bucket pattern, plus
    the default one, each given the client :func:`~tfm_jupyter.configure_s3` chose for it.

    It is used like one store (``get_store().stat(bucket, key)``): every method whose first argument
    is a bucket goes to that bucket's store, so two endpoints with a bucket of the same name never
    share a cache entry.  Reconfiguring a pattern clears only its store's cache.
    """

    body_limit = BODY_CACHE_LIMIT

    def __init__(self) -> None:
        self._stores: dict[str | None, S3Store] = {}
        self._lock = threading.Lock()
        self._limits: dict[str, Any] = {}
        self._persist: Any = None
        client.registry.on_change(self._reconfigured)

    def store_for(self, bucket: str | None) -> S3Store:
        """The store serving ``bucket`` (None: the default store)."""
        pattern = client.registry.pattern_for(bucket) if bucket else None
        with self._lock:
            store = self._stores.get(pattern)
            if store is None:
                store = self._stores[pattern] = S3Store(self._new_cache(pattern), client.registry.client_of(pattern))
            return store

    def __getattr__(self, name: str) -> Any:
        method = getattr(S3Store, name, None)
        if not callable(method) or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def for_bucket(bucket: str, *args: Any, **kwargs: Any) -> Any:
            return getattr(self.store_for(bucket), name)(bucket, *args, **kwargs)

        return for_bucket

    @property
    def cache(self) -> S3Cache:
        """The default store's cache (see :meth:`caches` for every store's)."""
        return self.store_for(None).cache

    def caches(self) -> list[S3Cache]:
        return [cache for _, cache in self._slots()]

    def list_buckets(self) -> list[str]:
        """The default client's buckets (one ListBuckets, cached) and every bucket configured by name."""
        return sorted({*self.store_for(None).list_buckets(), *client.registry.exact_buckets()})

    # -- cache settings, shared by every store -------------------------------------------------------

    def configure_caches(self, limits: dict[str, Any], persist: Any) -> None:
        self._limits.update({name: value for name, value in limits.items() if value is not None})
        if persist is not None:
            self._persist = None if persist is False else persist
        for pattern, cache in self._slots():
            cache.configure(**limits)
            if persist is not None:
                self._attach_disk(cache, pattern)

    def _slots(self) -> list[tuple[str | None, S3Cache]]:
        self.store_for(None)
        with self._lock:
            return [(pattern, store.cache) for pattern, store in self._stores.items()]

    def _new_cache(self, pattern: str | None) -> S3Cache:
        cache = S3Cache()
        cache.configure(**self._limits)
        if self._persist is not None:
            self._attach_disk(cache, pattern)
        return cache

    def _attach_disk(self, cache: S3Cache, pattern: str | None) -> None:
        if self._persist is None:
            cache.attach_disk(None, frozenset(), encode, decode)
            return
        from ..persist import DiskCache, default_path, for_pattern

        path = default_path() if self._persist is True else self._persist
        cache.attach_disk(DiskCache(for_pattern(path, pattern)), PERSISTED, encode, decode)

    def _reconfigured(self, patterns: list[str | None], everything: bool) -> None:
        with self._lock:
            if everything:
                self._stores = {None: self._stores[None]} if None in self._stores else {}
            changed = list(self._stores.items()) if everything else [(p, self._stores.get(p)) for p in patterns]
        for slot, store in changed:
            if store is not None:
                store.client = client.registry.client_of(slot)
                store.cache.clear()


_stores: Stores | None = None
_stores_lock = threading.Lock()


def get_store() -> Stores:
    """Every bucket's store (created on first use, without importing boto3)."""
    global _stores
    if _stores is None:
        with _stores_lock:
            if _stores is None:
                _stores = Stores()
    return _stores


# -- the spec's module-level cache API ------------------------------------------------------------


def get_s3_cache() -> S3Cache:
    """The cache of the default endpoint (each ``configure_s3(bucket=...)`` pattern has its own)."""
    return get_store().cache


PERSISTED = frozenset({"list_dir", "list_tree", "stat", "head", "bucket", "list_buckets"})


def configure_s3_cache(ttl: float | None = None, max_entries: int | None = None, max_bytes: int | None = None,
                       persist: bool | str | os.PathLike[str] | None = None) -> None:
    """Set the default TTL in seconds (``0`` disables caching), the entry limit and the body-byte limit
    of every endpoint's cache.

    ``persist=True`` (or a file path, or a directory to hold ``s3cache.sqlite3``) also keeps listings
    and metadata - never object bodies - in an SQLite file, so a restarted kernel opens big folders
    without listing them again within the TTL (a bucket pattern's cache uses a file of its own next
    to it); ``persist=False`` stops that.  A corrupt or locked file is ignored with a warning.
    """
    get_store().configure_caches({"ttl": ttl, "max_entries": max_entries, "max_bytes": max_bytes}, persist)


# What a cached answer of each kind stands in for, in S3 API requests.
_REPLACED_REQUEST = {"stat": "ListObjectsV2", "list_dir": "ListObjectsV2", "list_tree": "ListObjectsV2",
                     "body": "GetObject", "head": "HeadObject", "bucket": "HeadBucket", "list_buckets": "ListBuckets"}


def saved_counts() -> Counter[str]:
    """Requests the caches of every endpoint answered instead of S3, by S3 operation, right now."""
    saved: Counter[str] = Counter()
    for cache in get_store().caches():
        for operation, count in cache.saved_counts().items():
            saved[_REPLACED_REQUEST.get(operation) or client.api_name(operation)] += count
    return saved


_SUMMED = ("total_entries", "expired_entries", "hits", "misses", "evictions", "saved", "cached_body_bytes")


def get_s3_cache_stats() -> dict[str, Any]:
    """``total_entries``, ``expired_entries``, ``max_entries``, ``default_ttl``, hits, misses, evictions
    (over every endpoint's cache); ``requests`` sent and requests ``saved`` by the cache (also by
    operation, and ``requests_by_endpoint``), and their estimated cost in USD at the configured prices
    (see :func:`~tfm_jupyter.configure_s3_prices`)."""
    caches = get_store().caches()
    stats = get_s3_cache().get_stats()
    for name in _SUMMED:
        stats[name] = sum(cache.get_stats()[name] for cache in caches)
    requests, saved = client.request_counts(), saved_counts()
    stats.update(requests=sum(requests.values()), requests_by_operation=dict(requests), saved=sum(saved.values()),
                 saved_by_operation=dict(saved), requests_by_endpoint=client.requests_by_endpoint(),
                 estimated_cost_usd=estimate_cost(requests), saved_cost_usd=estimate_cost(saved),
                 prices_taken=PRICES_TAKEN)
    return stats


def clear_s3_cache() -> None:
    """Drop every cached S3 answer, of every endpoint."""
    for cache in get_store().caches():
        cache.clear()
