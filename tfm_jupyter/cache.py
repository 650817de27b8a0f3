"""``S3Cache``: a thread-safe TTL + LRU cache of S3 answers, keyed by (operation, bucket, key, params).

It knows nothing about boto3.  The storage layer decides what to cache (a whole directory listing is
one entry; a missing key is cached as :data:`NOT_FOUND`) and calls the invalidation methods after
its own writes.  Each bucket has a *generation* that every invalidation bumps: a value loaded from
the network is only stored if no write to that bucket happened while it was in flight, so a slow
listing can never resurrect data that a faster write already replaced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["NOT_FOUND", "S3Cache"]

log = logging.getLogger("tfm_jupyter.cache")


class _NotFound:
    """Cached answer "this key does not exist" (distinct from a cache miss, which is ``None``)."""

    _instance: _NotFound | None = None

    def __new__(cls) -> _NotFound:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_FOUND"

    def __bool__(self) -> bool:
        return False


NOT_FOUND = _NotFound()

CacheKey = tuple[str, str, str, frozenset]


@dataclass(slots=True)
class _Entry:
    value: Any
    expires_at: float
    nbytes: int


def _freeze(params: dict[str, Any]) -> frozenset:
    return frozenset((name, _hashable(value)) for name, value in params.items())


def _params_text(params: frozenset) -> str:
    return repr(sorted(params, key=repr))


def _hashable(value: Any) -> Hashable:
    if isinstance(value, dict):
        return _freeze(value)
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


class S3Cache:
    """TTL + LRU cache shared by every S3 path.

    ``default_ttl`` is in seconds (``0`` disables caching); ``max_entries`` bounds the number of
    entries (a directory listing counts as one); ``max_bytes`` bounds the bytes of cached object
    bodies.  All methods are safe to call from any thread.
    """

    _clock: Callable[[], float] = staticmethod(time.monotonic)  # tests replace it per instance

    def __init__(self, default_ttl: float = 60, max_entries: int = 1000, max_bytes: int = 64 * 2**20):
        self._disk: Any = None  # optional second level, see attach_disk()
        if default_ttl < 0 or max_entries < 1 or max_bytes < 0:
            raise ValueError("ttl must be >= 0, max_entries >= 1 and max_bytes >= 0")
        self.default_ttl = default_ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._by_location: dict[tuple[str, str], set[CacheKey]] = {}
        self._generations: dict[str, int] = {}
        self._global_generation = 0
        self._bytes = 0
        self._lock = threading.RLock()
        self.hits = self.misses = self.evictions = 0
        self.saved: Counter[str] = Counter()  # requests that cached answers replaced, by cache operation
        self._disk_operations: frozenset[str] = frozenset()
        self._encode: Callable[[Any], str] = repr
        self._decode: Callable[[str], Any] = repr

    # -- reading ---------------------------------------------------------------------------------

    def get(self, operation: str, bucket: str, key: str = "", **params: Any) -> Any | None:
        """The cached value, or ``None`` on a miss or an expired entry."""
        found, value = self.lookup(operation, bucket, key, **params)
        return value if found else None

    def lookup(self, operation: str, bucket: str, key: str = "", **params: Any) -> tuple[bool, Any]:
        """``(True, value)`` for a fresh entry, ``(False, None)`` otherwise; counts hits and misses."""
        found, value = self._fresh((operation, bucket, key, _freeze(params)))
        self.record(hit=found, operation=operation)
        log.debug("cache %s %s s3://%s/%s", "hit" if found else "miss", operation, bucket, key)
        return found, value

    def record(self, *, hit: bool, operation: str | None = None, requests: int = 1) -> None:
        """Count an answer the caller derived from cached data (hit) or had to fetch (miss).

        A hit saved ``requests`` requests of kind ``operation`` (a listing of N keys saves ceil(N/1000)).
        """
        with self._lock:
            if hit:
                self.hits += 1
                if operation is not None:
                    self.saved[operation] += requests
            else:
                self.misses += 1

    def peek(self, operation: str, bucket: str, key: str = "", **params: Any) -> tuple[bool, Any]:
        """Like :meth:`lookup` but without touching statistics or LRU order."""
        return self._fresh((operation, bucket, key, _freeze(params)), touch=False)

    def _fresh(self, cache_key: CacheKey, touch: bool = True) -> tuple[bool, Any]:
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is None:
                return self._from_disk(cache_key)
            if entry.expires_at <= self._clock():
                self._remove(cache_key)
                return self._from_disk(cache_key)  # another process may have listed it since
            if touch:
                self._entries.move_to_end(cache_key)
            return True, entry.value

    # -- the optional disk level -------------------------------------------------------------------

    def attach_disk(self, disk: Any, operations: frozenset[str], encode: Callable[[Any], str],
                    decode: Callable[[str], Any]) -> None:
        """Keep ``operations`` also in ``disk`` (a :class:`~tfm_jupyter.persist.DiskCache`), or detach with None."""
        with self._lock:
            if self._disk is not None and self._disk is not disk:
                self._disk.close()
            self._disk, self._disk_operations = disk, operations
            self._encode, self._decode = encode, decode

    def _disk_for(self, operation: str) -> Any:
        disk = self._disk
        return disk if disk is not None and operation in self._disk_operations and not disk.broken else None

    def _from_disk(self, cache_key: CacheKey) -> tuple[bool, Any]:
        disk = self._disk_for(cache_key[0])
        if disk is None or self.default_ttl <= 0:
            return False, None
        row = disk.get(cache_key[0], cache_key[1], cache_key[2], _params_text(cache_key[3]))
        if row is None:
            return False, None
        try:
            value = self._decode(row[0])
        except Exception as exc:  # another version's row, or a damaged or crafted file: never trusted
            disk.malformed(f"{type(exc).__name__}: {exc}")
            return False, None
        self._entries[cache_key] = _Entry(value, self._clock() + min(row[1], self.default_ttl), 0)
        self._by_location.setdefault((cache_key[1], cache_key[2]), set()).add(cache_key)
        self._evict()
        return True, value

    def _to_disk(self, cache_key: CacheKey, value: Any, ttl: float) -> None:
        disk = self._disk_for(cache_key[0])
        if disk is not None:
            disk.put(cache_key[0], cache_key[1], cache_key[2], _params_text(cache_key[3]), self._encode(value), ttl)

    def _drop_from_disk(self, cache_key: CacheKey) -> None:
        disk = self._disk_for(cache_key[0])
        if disk is not None:
            disk.delete(cache_key[0], cache_key[1], cache_key[2], _params_text(cache_key[3]))

    def get_or_load(
        self,
        operation: str,
        bucket: str,
        key: str,
        loader: Callable[[], Any],
        ttl: float | None = None,
        nbytes: int = 0,
        **params: Any,
    ) -> Any:
        """Return the cached value, or call ``loader()`` (outside the lock) and cache its result.

        The result is not stored if the bucket was written to while ``loader`` ran.
        """
        found, value = self.lookup(operation, bucket, key, **params)
        if found:
            return value
        generation = self.generation(bucket)
        value = loader()
        self.put(operation, bucket, key, value, ttl, _generation=generation, _nbytes=nbytes, **params)
        return value

    def generation(self, bucket: str) -> tuple[int, int]:
        """A token that changes whenever anything cached for ``bucket`` is invalidated or updated."""
        with self._lock:
            return self._global_generation, self._generations.get(bucket, 0)

    # -- writing ---------------------------------------------------------------------------------

    def put(
        self,
        operation: str,
        bucket: str,
        key: str = "",
        data: Any = None,
        ttl: float | None = None,
        *,
        _generation: tuple[int, int] | None = None,
        _nbytes: int = 0,
        **params: Any,
    ) -> None:
        """Cache ``data`` for ``ttl`` seconds (``None``: the default TTL, ``0``: do not cache)."""
        ttl = self.default_ttl if ttl is None else ttl
        if ttl <= 0 or _nbytes > self.max_bytes:
            return
        cache_key = (operation, bucket, key, _freeze(params))
        with self._lock:
            if _generation is not None and _generation != self.generation(bucket):
                log.debug("cache skip %s s3://%s/%s: written while loading", operation, bucket, key)
                return
            if cache_key in self._entries:
                self._remove(cache_key)
            self._entries[cache_key] = _Entry(data, self._clock() + ttl, _nbytes)
            self._by_location.setdefault((bucket, key), set()).add(cache_key)
            self._bytes += _nbytes
            self._to_disk(cache_key, data, ttl)
            self._evict()

    def update(self, operation: str, bucket: str, key: str, change: Callable[[Any], Any], **params: Any) -> bool:
        """Replace a fresh entry's value with ``change(value)`` (``None`` drops it), keeping its expiry.

        Bumps the bucket's generation either way; returns whether an entry was there.
        """
        cache_key = (operation, bucket, key, _freeze(params))
        with self._lock:
            self._bump(bucket)
            found, value = self._fresh(cache_key, touch=False)
            if not found:
                return False
            new = change(value)
            if new is None:
                self._remove(cache_key)
                self._drop_from_disk(cache_key)
            else:
                entry = self._entries[cache_key]
                entry.value = new
                self._to_disk(cache_key, new, entry.expires_at - self._clock())
            return True

    def upsert(self, operation: str, bucket: str, key: str, change: Callable[[Any], Any], **params: Any) -> None:
        """Store ``change(old)`` where ``old`` is the fresh value or ``None``; bumps the generation."""
        cache_key = (operation, bucket, key, _freeze(params))
        with self._lock:
            self._bump(bucket)
            found, value = self._fresh(cache_key, touch=False)
            self.put(operation, bucket, key, change(value if found else None), **params)

    def _evict(self) -> None:
        if len(self._entries) <= self.max_entries and self._bytes <= self.max_bytes:
            return
        self.sweep()
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            cache_key = next(iter(self._entries))
            self._remove(cache_key)
            self.evictions += 1

    def _remove(self, cache_key: CacheKey) -> None:
        entry = self._entries.pop(cache_key)
        self._bytes -= entry.nbytes
        location = (cache_key[1], cache_key[2])
        keys = self._by_location.get(location)
        if keys is not None:
            keys.discard(cache_key)
            if not keys:
                del self._by_location[location]

    def _bump(self, bucket: str) -> None:
        self._generations[bucket] = self._generations.get(bucket, 0) + 1

    # -- invalidation ----------------------------------------------------------------------------

    def discard(self, operation: str, bucket: str, key: str = "", **params: Any) -> None:
        """Drop one entry (if present) and bump the bucket's generation."""
        cache_key = (operation, bucket, key, _freeze(params))
        with self._lock:
            self._bump(bucket)
            if cache_key in self._entries:
                self._remove(cache_key)
            self._drop_from_disk(cache_key)

    def invalidate_key(self, bucket: str, key: str) -> None:
        """Drop every entry for exactly this key (all operations and parameters)."""
        with self._lock:
            self._bump(bucket)
            for cache_key in list(self._by_location.get((bucket, key), ())):
                self._remove(cache_key)
            if self._disk is not None:
                self._disk.delete_key(bucket, key)

    def invalidate_prefix(self, bucket: str, prefix: str) -> None:
        """Drop every entry whose key starts with ``prefix``."""
        with self._lock:
            self._bump(bucket)
            for location in [loc for loc in self._by_location if loc[0] == bucket and loc[1].startswith(prefix)]:
                for cache_key in list(self._by_location.get(location, ())):
                    self._remove(cache_key)
            if self._disk is not None:
                self._disk.delete_prefix(bucket, prefix)

    def invalidate_bucket(self, bucket: str) -> None:
        """Drop everything cached for ``bucket``."""
        self.invalidate_prefix(bucket, "")

    def clear(self) -> None:
        """Drop every entry (statistics are kept)."""
        with self._lock:
            self._global_generation += 1
            self._entries.clear()
            self._by_location.clear()
            self._bytes = 0
            if self._disk is not None:
                self._disk.clear()

    def sweep(self) -> int:
        """Remove expired entries now; returns how many were removed."""
        with self._lock:
            now = self._clock()
            expired = [k for k, e in self._entries.items() if e.expires_at <= now]
            for cache_key in expired:
                self._remove(cache_key)
            return len(expired)

    def configure(self, ttl: float | None = None, max_entries: int | None = None, max_bytes: int | None = None) -> None:
        """Change the limits in place; shrinking evicts immediately."""
        with self._lock:
            if ttl is not None:
                if ttl < 0:
                    raise ValueError("ttl must be >= 0")
                self.default_ttl = ttl
                if ttl == 0:
                    self.clear()
            if max_entries is not None:
                if max_entries < 1:
                    raise ValueError("max_entries must be >= 1")
                self.max_entries = max_entries
            if max_bytes is not None:
                self.max_bytes = max_bytes
            self._evict()

    # -- statistics ------------------------------------------------------------------------------

    def saved_counts(self) -> Counter[str]:
        """Requests cached answers replaced, by cache operation."""
        with self._lock:
            return Counter(self.saved)

    def get_stats(self) -> dict[str, Any]:
        """Entry counts, limits and hit/miss/eviction counters."""
        with self._lock:
            now = self._clock()
            expired = sum(1 for e in self._entries.values() if e.expires_at <= now)
            return {
                "total_entries": len(self._entries),
                "expired_entries": expired,
                "max_entries": self.max_entries,
                "default_ttl": self.default_ttl,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
                "saved": sum(self.saved.values()),
                "cached_body_bytes": self._bytes,
                "max_bytes": self.max_bytes,
            }

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"S3Cache(default_ttl={self.default_ttl}, max_entries={self.max_entries}, entries={len(self)})"
