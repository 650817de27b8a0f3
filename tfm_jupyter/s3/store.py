"""Storage operations on S3: each is a small number of counted requests plus cache reads and updates.

Addresses are plain strings.  An *entry key* names an object and/or a directory: ``'a/b'`` is the
object ``a/b`` and the prefix ``a/b/``.  A *prefix* names a directory's contents: ``''`` for the
bucket root, otherwise a string ending in ``/``.  Cache entries:

``('list_dir', bucket, prefix)``  one complete delimiter listing (:class:`Listing`)
``('list_tree', bucket, prefix)`` every directory below ``prefix`` from one flat listing
``('stat', bucket, key)``         :class:`ObjectInfo` or ``NOT_FOUND`` from a probe
``('body', bucket, key)``         ``(etag, bytes)`` of a small object
``('bucket', bucket, '')``        whether the bucket exists

After our own writes the entries are updated in place (never left stale), see ``record_put`` and
``record_delete``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .. import errors
from ..cache import NOT_FOUND, S3Cache
from ..uri import guess_content_type
from . import client
from .entries import (
    DIRECTORY,
    Listing,
    ObjectInfo,
    info_from_contents,
    info_from_response,
    listing_from_pages,
    response_date,
    split_key,
    tree_from_pages,
)
from .fanout import continue_listing, tree_pages
from .transfers import upload_fileobj

__all__ = ["BODY_CACHE_LIMIT", "S3Store", "ancestor_prefixes", "split_key"]

log = logging.getLogger("tfm_jupyter.store")

PROBE_PAGE = 100
BODY_CACHE_LIMIT = 256 * 2**10  # objects up to this size are kept in the cache after a full read
EMPTY = Listing()


def ancestor_prefixes(key: str) -> list[str]:
    """Every directory prefix that contains ``key``, nearest first, ending with ``''``."""
    prefixes = []
    cut = key.rfind("/")
    while cut >= 0:
        prefixes.append(key[: cut + 1])
        cut = key.rfind("/", 0, cut)
    prefixes.append("")
    return prefixes


class S3Store:
    """S3 operations with caching; one instance (see :func:`get_store`) serves every path."""

    body_limit = BODY_CACHE_LIMIT  # objects up to this size are read whole and their bodies cached

    def __init__(self, cache: S3Cache, client: Any):
        self.cache = cache
        self.client = client  # the transport: an S3Client, given, like an httpx transport
        # Writes to one key are serialised so their cache updates land in the order S3 saw them.
        self._key_locks = [threading.Lock() for _ in range(64)]

    def key_lock(self, bucket: str, key: str) -> threading.Lock:
        return self._key_locks[hash((bucket, key)) % len(self._key_locks)]

    # -- what exists -------------------------------------------------------------------------------

    def bucket_info(self, bucket: str) -> ObjectInfo | Any:
        """DIRECTORY if the bucket exists, else NOT_FOUND (one HeadBucket, cached)."""
        return self.cache.get_or_load("bucket", bucket, "", functools.partial(self._head_bucket, bucket))

    def _head_bucket(self, bucket: str) -> ObjectInfo | Any:
        try:
            self.client.call("head_bucket", Bucket=bucket)
        except errors.NotFound:
            return NOT_FOUND
        return DIRECTORY

    def stat(self, bucket: str, key: str) -> ObjectInfo | Any:
        """What lives at entry ``key``: answered by a cached listing of its parent, then by a cached
        probe, then by one ListObjectsV2 probe (occasionally two)."""
        parent, name = split_key(key)
        listing = self.known_listing(bucket, parent)
        if listing is not None:
            self.cache.record(hit=True, operation="stat")
            return _child(listing, name) or NOT_FOUND
        return self.cache.get_or_load("stat", bucket, key, functools.partial(self._probe, bucket, key))

    def known_info(self, bucket: str, key: str) -> ObjectInfo | None:
        """What the cache already knows of the object ``key`` (from a listing or a probe), or None;
        never a request."""
        parent, name = split_key(key)
        listing = self.known_listing(bucket, parent)
        found, info = (True, _child(listing, name)) if listing is not None else self.cache.peek("stat", bucket, key)
        return info if found and info and info is not NOT_FOUND and info.is_file else None

    def _probe(self, bucket: str, key: str) -> ObjectInfo | Any:
        # Keys sort as UTF-8 bytes, so the object `key` comes first among those starting with it, and
        # the prefix `key/` shows up as a CommonPrefix after siblings such as `key-1` or `key.txt`.
        dir_prefix = key + "/"
        try:
            page = self.client.call("list_objects_v2", Bucket=bucket, Prefix=key, Delimiter="/", MaxKeys=PROBE_PAGE)
        except errors.BucketNotFound:
            return NOT_FOUND
        except errors.AccessDenied:
            return self._head_probe(bucket, key)  # credentials without s3:ListBucket can still HEAD
        contents = page.get("Contents", ())
        commons = [c["Prefix"] for c in page.get("CommonPrefixes", ())]
        is_dir = dir_prefix in commons
        last = max([c["Key"] for c in contents] + commons, default="")
        if not is_dir and page.get("IsTruncated") and last < dir_prefix:
            below = self.client.call("list_objects_v2", Bucket=bucket, Prefix=dir_prefix, MaxKeys=1)
            is_dir = below.get("KeyCount", 0) > 0
        return _entry(key, contents, is_dir)

    def survey(self, bucket: str, key: str) -> ObjectInfo | Any:
        """What lives at entry ``key`` and everything below ``key/`` (cached as ``list_tree``, empty
        when it is no directory): one flat ListObjectsV2 from ``Prefix=key`` answers both when
        nothing that sorts between ``key`` and ``key/`` fills the page, so a copy's source costs what
        listing it alone would.  Answered from the cache, without the tree, when the entry is known.
        """
        generation, first = self._first_survey_page(bucket, key)
        return self.stat(bucket, key) if first is None else self._finish_survey(bucket, key, first, generation)

    def survey_or_stream(self, bucket: str, key: str) -> Iterator[Mapping[str, Any]] | None:
        """:meth:`survey`, except for a big directory: when the first page already holds keys below
        ``key/`` and says there are more, returns the pages of the keys below ``key/`` as they
        arrive (the first one's included), neither collected nor cached, so a caller can act on
        the first thousand keys while the rest is listed.  None when :meth:`survey` answered.
        """
        dir_prefix = key + "/"
        if self._known_tree(bucket, dir_prefix):
            return None
        parent, name = split_key(key)
        listing = self.known_listing(bucket, parent)
        if listing is not None:  # the entry is known (a pane shows its folder): is it a directory?
            child = _child(listing, name)
            return self._stream_tree(bucket, dir_prefix) if child is not None and child.is_dir else None
        generation, first = self._first_survey_page(bucket, key)
        if first is None:
            self.stat(bucket, key)
            return None
        contents = first.get("Contents", [])
        if first.get("IsTruncated") and contents and contents[-1]["Key"].startswith(dir_prefix):
            return _pages_below(self.client, bucket, dir_prefix, first, self.known_folders(bucket, dir_prefix))
        self._finish_survey(bucket, key, first, generation)
        return None

    def _stream_tree(self, bucket: str, dir_prefix: str) -> Iterator[Mapping[str, Any]] | None:
        """The pages below a known directory as they arrive; None (and cached) if one page holds it."""
        self.cache.record(hit=False)
        generation = self.cache.generation(bucket)
        pages = tree_pages(self.client, bucket, dir_prefix, self.known_folders(bucket, dir_prefix))
        first = next(pages)
        if first.get("IsTruncated") and first.get("Contents"):
            return itertools.chain([first], pages)
        self.cache.put("list_tree", bucket, dir_prefix, tree_from_pages(dir_prefix, [first]), _generation=generation)
        return None

    def _known_tree(self, bucket: str, dir_prefix: str) -> bool:
        """Whether a fresh recursive listing at or above ``dir_prefix`` is cached."""
        return any(self.cache.peek("list_tree", bucket, prefix)[0]
                   for prefix in [dir_prefix, *ancestor_prefixes(dir_prefix[:-1])])

    def _first_survey_page(self, bucket: str, key: str) -> tuple[Any, Mapping[str, Any] | None]:
        """The survey's one request (and the cache generation from before it), or None where the
        cache or a probe answers better."""
        parent, _ = split_key(key)
        if not key or self.known_listing(bucket, parent) is not None or self.cache.peek("stat", bucket, key)[0]:
            return None, None
        self.cache.record(hit=False)
        generation = self.cache.generation(bucket)
        try:
            return generation, self.client.call("list_objects_v2", Bucket=bucket, Prefix=key)
        except (errors.BucketNotFound, errors.AccessDenied):
            return None, None  # the probe knows both answers (NOT_FOUND, or a HeadObject)

    def _finish_survey(self, bucket: str, key: str, first: Mapping[str, Any], generation: Any) -> ObjectInfo | Any:
        dir_prefix = key + "/"
        tree = tree_from_pages(dir_prefix, _pages_below(self.client, bucket, dir_prefix, first,
                                                      self.known_folders(bucket, dir_prefix)))
        found = _entry(key, first.get("Contents", ()), tree[dir_prefix].exists)
        self.cache.put("stat", bucket, key, found, _generation=generation)
        # Kept even when empty: a known-empty tree stays true until a write below it drops it.
        self.cache.put("list_tree", bucket, dir_prefix, tree, _generation=generation)
        return found

    def _head_probe(self, bucket: str, key: str) -> ObjectInfo | Any:
        try:
            return info_from_response(self.client.call("head_object", Bucket=bucket, Key=key))
        except errors.NotFound:
            return NOT_FOUND

    def head_metadata(self, bucket: str, key: str) -> dict[str, Any]:
        """Full metadata of one object (content type, user metadata): one HeadObject, cached."""

        def load() -> dict[str, Any] | Any:
            try:
                response = self.client.call("head_object", Bucket=bucket, Key=key)
            except errors.NotFound:
                return NOT_FOUND
            info = info_from_response(response)
            return {"size": info.size, "mtime": info.mtime, "etag": info.etag,
                    "storage_class": info.storage_class, "content_type": info.content_type,
                    "metadata": dict(response.get("Metadata", {})), "version_id": response.get("VersionId")}

        metadata = self.cache.get_or_load("head", bucket, key, load)
        if metadata is NOT_FOUND:
            if self._is_dir(bucket, key):
                raise errors.IsADirectory("Is a directory", f"s3://{bucket}/{key}", "HeadObject")
            raise errors.NotFound("No such file or directory", f"s3://{bucket}/{key}", "HeadObject")
        return metadata

    # -- listings ---------------------------------------------------------------------------------

    def known_listing(self, bucket: str, prefix: str) -> Listing | None:
        """A fresh cached listing of ``prefix``, from its own entry or a recursive listing above it."""
        found, listing = self.cache.peek("list_dir", bucket, prefix)
        if found:
            return listing
        for ancestor in [prefix, *ancestor_prefixes(prefix[:-1])] if prefix else [""]:
            found, tree = self.cache.peek("list_tree", bucket, ancestor)
            if found:
                return tree.get(prefix, EMPTY)
        return None

    def known_folders(self, bucket: str, prefix: str) -> list[str]:
        """The names of the sub-folders of ``prefix`` a fresh cached listing knows (no request)."""
        listing = self.known_listing(bucket, prefix)
        return [name for name, info in listing.children.items() if info.is_dir] if listing else []

    def listdir(self, bucket: str, prefix: str) -> Listing:
        """The complete listing of one directory: ceil(N/1000) ListObjectsV2 requests, cached."""
        listing = self.known_listing(bucket, prefix)
        if listing is not None:
            self.cache.record(hit=True, operation="list_dir", requests=_pages(listing))
            return listing
        return self.cache.get_or_load("list_dir", bucket, prefix, functools.partial(self._list_dir, bucket, prefix))

    def _list_dir(self, bucket: str, prefix: str) -> Listing:
        pages = self.client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, Delimiter="/")
        return listing_from_pages(prefix, pages)

    def iter_listing_pages(self, bucket: str, prefix: str) -> Iterator[Listing]:
        """Stream a directory as it arrives: yields one Listing per page, then caches the whole.

        Served from the cache in one step when a fresh listing exists.
        """
        listing = self.known_listing(bucket, prefix)
        if listing is not None:
            self.cache.record(hit=True, operation="list_dir", requests=_pages(listing))
            yield listing
            return
        self.cache.record(hit=False)
        generation = self.cache.generation(bucket)
        pages: list[Mapping[str, Any]] = []
        for page in self.client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, Delimiter="/"):
            pages.append(page)
            yield listing_from_pages(prefix, [page])
        self.cache.put("list_dir", bucket, prefix, listing_from_pages(prefix, pages), _generation=generation)

    def tree(self, bucket: str, prefix: str) -> dict[str, Listing]:
        """Every directory below ``prefix`` from one flat listing (ceil(N/1000) requests; beyond 1,000
        keys two key ranges are listed in parallel, see :mod:`.fanout`), cached."""
        pages = functools.partial(tree_pages, self.client, bucket, prefix, self.known_folders(bucket, prefix))
        return self.cache.get_or_load("list_tree", bucket, prefix, lambda: tree_from_pages(prefix, pages()))

    def list_buckets(self) -> list[str]:
        """Names of the buckets these credentials can see (one ListBuckets, cached)."""
        return self.cache.get_or_load(
            "list_buckets", "", "",
            lambda: [b["Name"] for b in self.client.call("list_buckets").get("Buckets", [])],
        )

    # -- reading ----------------------------------------------------------------------------------

    def read(self, bucket: str, key: str) -> bytes:
        """The whole object: one GetObject (no HeadObject first); small bodies are cached."""
        cached = self.cached_body(bucket, key)
        if cached is not None:
            return cached
        generation = self.cache.generation(bucket)
        response, data = self._read_whole(bucket, key)
        info = info_from_response(response)
        self.cache.put("stat", bucket, key, self._merge_known(bucket, key, info), _generation=generation)
        self.remember_body(bucket, key, info.etag, data, generation)
        return data

    def generation(self, bucket: str) -> Any:
        """The cache's token for ``bucket`` (see :meth:`remember_body`)."""
        return self.cache.generation(bucket)

    def cached_body(self, bucket: str, key: str) -> bytes | None:
        """The body of a small object if a fresh copy is cached (no request), else None."""
        found, cached = self.cache.lookup("body", bucket, key)
        return cached[1] if found else None

    def remember_body(self, bucket: str, key: str, etag: str | None, data: bytes, generation: Any) -> None:
        """Keep a small object's body that was read whole (so the next read costs nothing), unless the
        bucket's cache changed since ``generation`` (taken before the GET): a write meanwhile wins."""
        if len(data) <= BODY_CACHE_LIMIT:
            self.cache.put("body", bucket, key, (etag, data), _generation=generation, _nbytes=len(data))

    def _read_whole(self, bucket: str, key: str, attempts: int = 3) -> tuple[dict[str, Any], bytes]:
        """GetObject and its body; a body cut short is fetched again (same ETag only), never returned."""
        etag = None
        for attempt in range(attempts):
            response, body = self.open_stream(bucket, key, etag=etag)
            try:
                return response, body.read()
            except errors.ServiceError:
                if attempt == attempts - 1:
                    raise
                etag = response.get("ETag")
                log.debug("GetObject s3://%s/%s was cut short; reading it again", bucket, key)
            finally:
                body.close()
        raise AssertionError("unreachable")

    def read_range(self, bucket: str, key: str, start: int, end: int) -> bytes:
        """Bytes ``start..end`` (inclusive) of an object: one ranged GetObject (short if the object is)."""
        found, cached = self.cache.lookup("body", bucket, key)
        if found:
            return cached[1][start:end + 1]
        try:
            _, body = self.open_stream(bucket, key, start, end)
        except errors.S3Error as exc:
            if "past the end" in str(exc):
                return b""
            raise
        try:
            return body.read()
        finally:
            body.close()

    def open_stream(self, bucket: str, key: str, start: int = 0, end: int | None = None,
                    etag: str | None = None) -> tuple[dict[str, Any], client.ResponseStream]:
        """GetObject from byte ``start`` (to ``end`` inclusive), optionally only if the ETag still matches.

        A missing key that is a directory raises ``IsADirectoryError``.
        """
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        if etag:
            params["IfMatch"] = etag
        try:
            return self.client.get_stream(**params)
        except errors.NotFound as exc:
            if not isinstance(exc, errors.BucketNotFound) and self._is_dir(bucket, key):
                raise errors.IsADirectory("Is a directory", f"s3://{bucket}/{key}", "GetObject") from None
            raise

    def _is_dir(self, bucket: str, key: str) -> bool:
        info = self.stat(bucket, key)
        return info is not NOT_FOUND and info.is_dir

    def _merge_known(self, bucket: str, key: str, info: ObjectInfo) -> ObjectInfo:
        found, known = self.cache.peek("stat", bucket, key)
        return known.merged(info) if found and known is not NOT_FOUND else info

    # -- writing ----------------------------------------------------------------------------------

    def write(self, bucket: str, key: str, data: bytes, *, exclusive: bool = False,
              content_type: str | None = None) -> ObjectInfo:
        """PutObject (``exclusive``: only if the key does not exist yet, via If-None-Match)."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data,
                                  "ContentType": content_type or guess_content_type(key)}
        if exclusive:
            params["IfNoneMatch"] = "*"
        with self.key_lock(bucket, key):
            with self.forgetting_on_failure(bucket, key):
                response = self.client.call("put_object", **params)
            info = ObjectInfo(is_file=True, is_dir=False, size=len(data), mtime=response_date(response),
                              etag=response.get("ETag"), storage_class="STANDARD",
                              content_type=params["ContentType"])
            self.record_put(bucket, key, info)
            if len(data) <= BODY_CACHE_LIMIT and info.etag:
                self.cache.put("body", bucket, key, (info.etag, bytes(data)), _nbytes=len(data))
        return info

    def upload(self, bucket: str, key: str, fileobj: Any, *, size: int = 0, content_type: str | None = None,
               callback: Callable[[int], None] | None = None) -> None:
        """Managed upload of a binary file object (multipart above 8 MiB, failed parts aborted)."""
        extra = {"ContentType": content_type or guess_content_type(key)}
        with self.key_lock(bucket, key), self.recording_write(bucket, key):
            upload_fileobj(self.client, fileobj, bucket, key, size=size, extra=extra, callback=callback)

    def delete(self, bucket: str, key: str) -> None:
        """DeleteObject (S3 answers success even for a missing key; callers check first)."""
        with self.key_lock(bucket, key):
            with self.forgetting_on_failure(bucket, key):
                self.client.call("delete_object", Bucket=bucket, Key=key)
            self.record_delete(bucket, key)

    def remove_marker(self, bucket: str, prefix: str) -> None:
        """Delete the marker object of an empty directory (``prefix`` ends in ``/``)."""
        with self.key_lock(bucket, prefix):
            with self.forgetting_on_failure(bucket, prefix):
                self.client.call("delete_object", Bucket=bucket, Key=prefix)
            self.record_delete(bucket, prefix[:-1], directory=True)

    def delete_many(self, bucket: str, keys: list[str]) -> dict[str, errors.S3Error]:
        """DeleteObjects in batches of 1000; returns the keys that failed, with their errors."""
        failed: dict[str, errors.S3Error] = {}
        try:
            for start in range(0, len(keys), 1000):
                batch = keys[start:start + 1000]
                response = self.client.call("delete_objects", Bucket=bucket,
                                       Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
                for error in response.get("Errors", ()):
                    failed[error["Key"]] = errors.S3Error(f"DeleteObjects: {error.get('Code')}: {error.get('Message')}",
                                                          f"s3://{bucket}/{error['Key']}")
        finally:  # earlier batches took effect even when a later one failed; dropping is always true
            self.record_tree_change(bucket, _common_prefix(keys))
        return failed

    def make_marker(self, bucket: str, prefix: str) -> None:
        """PutObject of the zero-byte directory marker ``prefix`` (ending in ``/``)."""
        with self.key_lock(bucket, prefix):
            with self.forgetting_on_failure(bucket, prefix):
                response = self.client.call("put_object", Bucket=bucket, Key=prefix, Body=b"")
            marker = ObjectInfo(is_file=True, is_dir=False, size=0, mtime=response_date(response),
                                etag=response.get("ETag"))
            self.cache.update("list_dir", bucket, prefix, lambda listing: listing.with_marker(marker))
            self.record_put(bucket, prefix[:-1], DIRECTORY)

    def create_bucket(self, bucket: str) -> None:
        region = self.client.region
        params: dict[str, Any] = {"Bucket": bucket}
        if region and region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.client.call("create_bucket", **params)
        self.cache.invalidate_key(bucket, "")
        self.cache.invalidate_bucket("")

    def delete_bucket(self, bucket: str) -> None:
        self.client.call("delete_bucket", Bucket=bucket)
        self.cache.invalidate_bucket(bucket)
        self.cache.invalidate_bucket("")

    # -- keeping the cache true after our own writes ------------------------------------------------

    @contextlib.contextmanager
    def recording_write(self, bucket: str, key: str) -> Iterator[None]:
        """Around a write whose result details are unknown (managed transfers, raw API calls):
        a success records ``key`` as written; a failure or cancel only forgets what it may have touched."""
        with self.forgetting_on_failure(bucket, key):
            yield
        self.record_put(bucket, key, None)

    @contextlib.contextmanager
    def forgetting_on_failure(self, bucket: str, key: str) -> Iterator[None]:
        """A write to ``key`` that raises inside the block leaves the cache knowing less, never more."""
        try:
            yield
        except BaseException:
            self.forget_key(bucket, key)
            raise

    def forget_key(self, bucket: str, key: str) -> None:
        """Drop what is cached about ``key`` and the listings that hold it, asserting nothing.

        After a failed write S3 may hold the old object, or (a timeout that the server did apply)
        the new one: only a fresh request can tell, so nothing is recorded as created or gone.
        """
        for operation in ("body", "head", "stat"):
            self.cache.discard(operation, bucket, key)
        parent, _ = split_key(key)
        self.cache.discard("list_dir", bucket, parent)
        for prefix in ancestor_prefixes(key):
            self.cache.discard("list_tree", bucket, prefix)

    def record_put(self, bucket: str, key: str, info: ObjectInfo | None) -> None:
        """``key`` now exists: update its parent's listing and make every ancestor a directory.

        ``info=None`` means the new object's details are unknown (managed transfers): its parent's
        listing is dropped instead of updated.
        """
        cache = self.cache
        cache.discard("body", bucket, key)
        cache.discard("head", bucket, key)
        if info is None:
            cache.discard("stat", bucket, key)
        else:
            cache.upsert("stat", bucket, key, lambda old: old.merged(info) if old else info)
        child: ObjectInfo | None = info
        name = split_key(key)[1]
        for prefix in ancestor_prefixes(key):
            cache.discard("list_tree", bucket, prefix)
            if child is None:
                cache.discard("list_dir", bucket, prefix)
            else:
                cache.update("list_dir", bucket, prefix, functools.partial(_add_child, name=name, info=child))
            if prefix:
                cache.upsert("stat", bucket, prefix[:-1], _as_directory)
                name, child = split_key(prefix[:-1])[1], DIRECTORY
        # a known-empty recursive listing of the key itself (it was a file before) stays correct

    def record_delete(self, bucket: str, key: str, *, directory: bool = False) -> None:
        """``key`` (the object, or with ``directory`` the marker ``key/``) is gone: update listings.

        Ancestor directories that only existed because of ``key`` vanish too; where we cannot tell
        (the parent listing is not cached) the ancestors' entries are dropped.
        """
        cache = self.cache
        for operation in ("body", "head"):
            cache.discard(operation, bucket, key)
        if directory:
            cache.discard("list_dir", bucket, key + "/")
            cache.discard("list_tree", bucket, key + "/")
        cache.update("stat", bucket, key, _without_dir if directory else _without_file)
        name = split_key(key)[1]
        remove = functools.partial(_remove_child, file=not directory, directory=directory)
        for prefix in ancestor_prefixes(key):
            cache.discard("list_tree", bucket, prefix)
            found, listing = cache.peek("list_dir", bucket, prefix)
            if not found:
                self._forget_ancestors(bucket, prefix)
                return
            remaining = remove(listing, name)
            cache.update("list_dir", bucket, prefix, lambda _old, new=remaining: new)
            if remaining.exists or not prefix:
                for above in ancestor_prefixes(prefix[:-1]) if prefix else ():
                    cache.discard("list_tree", bucket, above)
                return
            # the directory existed only through this key; it is gone from its own parent too
            cache.update("stat", bucket, prefix[:-1], _without_dir)
            name = split_key(prefix[:-1])[1]
            remove = functools.partial(_remove_child, file=False, directory=True)

    def _forget_ancestors(self, bucket: str, prefix: str) -> None:
        if not prefix:
            return
        self.cache.discard("stat", bucket, prefix[:-1])
        for above in ancestor_prefixes(prefix[:-1]):
            for operation in ("list_dir", "list_tree"):
                self.cache.discard(operation, bucket, above)
            if above:
                self.cache.discard("stat", bucket, above[:-1])

    def forget_listing(self, bucket: str, prefix: str) -> None:
        """Drop what is cached about one directory's contents (a user's "refresh")."""
        self.cache.invalidate_prefix(bucket, prefix)
        for ancestor in ancestor_prefixes(prefix[:-1]) if prefix else ():
            self.cache.discard("list_tree", bucket, ancestor)

    def record_tree_change(self, bucket: str, prefix: str) -> None:
        """Anything below ``prefix`` may have changed (bulk deletes, moves): drop it all."""
        self.cache.invalidate_prefix(bucket, prefix)
        if prefix:
            self.cache.invalidate_key(bucket, prefix[:-1])
            self._forget_ancestors(bucket, prefix)


def _pages(listing: Listing) -> int:
    return max(1, -(-len(listing.children) // 1000))


def _entry(key: str, contents: Iterable[Mapping[str, Any]], is_dir: bool) -> ObjectInfo | Any:
    """What lives at ``key``, given listed ``contents`` that include it if it is an object."""
    file = next((info_from_contents(c) for c in contents if c["Key"] == key), None)
    if file and is_dir:
        return file.merged(DIRECTORY)
    return file or (DIRECTORY if is_dir else NOT_FOUND)


def _pages_below(client: Any, bucket: str, dir_prefix: str, first: Mapping[str, Any],
                 folders: list[str]) -> Iterator[Mapping[str, Any]]:
    """The pages listing ``dir_prefix``, given the first page of a listing from a shorter prefix.

    Keys sort as UTF-8 bytes (as Python compares code points), so the keys below ``dir_prefix`` form
    one run in ``first``; whatever the page did not reach is listed from there on.
    """
    contents = first.get("Contents", [])
    yield {"Contents": [c for c in contents if c["Key"].startswith(dir_prefix)]}
    if not first.get("IsTruncated") or not contents:
        return
    last = contents[-1]["Key"]
    if last < dir_prefix:  # siblings such as `key-1/…` filled the page before the directory began
        yield from tree_pages(client, bucket, dir_prefix, folders)
    elif last.startswith(dir_prefix):
        below = [c for c in contents if c["Key"].startswith(dir_prefix)]
        yield from continue_listing(client, bucket, dir_prefix, below, folders)


def _child(listing: Listing, name: str) -> ObjectInfo | None:
    info = listing.children.get(name)
    if name == "":  # the object named by the prefix itself is the directory marker
        marker = listing.marker
        if marker is not None:
            return info.merged(marker) if info else marker
    return info


def _add_child(listing: Listing, name: str, info: ObjectInfo) -> Listing:
    if name == "" and info.is_file:
        return listing.with_marker(info)
    return listing.with_child(name, info)


def _as_directory(old: Any) -> ObjectInfo:
    return DIRECTORY if not old else old.merged(DIRECTORY)


def _without_file(old: Any) -> Any:
    return (old.without_file() if old else None) or NOT_FOUND


def _without_dir(old: Any) -> Any:
    return (old.without_dir() if old else None) or NOT_FOUND


def _remove_child(listing: Listing, name: str, *, file: bool, directory: bool) -> Listing:
    if name == "" and file:  # the object named by the prefix is the marker, not a child
        listing = listing.with_marker(None)
        file = False
    return listing.without(name, file=file, directory=directory) if file or directory else listing


def _common_prefix(keys: list[str]) -> str:
    if not keys:
        return ""
    first, last = min(keys), max(keys)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[: first.rfind("/", 0, size) + 1]
