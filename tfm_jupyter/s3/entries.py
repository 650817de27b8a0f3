"""S3's answers as :class:`~tfm_jupyter.entries.ObjectInfo` and :class:`~tfm_jupyter.entries.Listing`:
listing pages and responses parsed, and the JSON form the persistent cache stores."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

from ..entries import DIRECTORY, Listing, ListingBuilder, ObjectInfo, split_key, tree_from_objects

__all__ = ["DIRECTORY", "Listing", "ObjectInfo", "decode", "encode", "listing_from_pages", "split_key",
           "tree_from_pages"]


def info_from_contents(item: Mapping[str, Any]) -> ObjectInfo:
    """ObjectInfo from one ``Contents`` element of ListObjectsV2."""
    return ObjectInfo(
        is_file=True,
        is_dir=False,
        size=item.get("Size", 0),
        mtime=timestamp(item.get("LastModified")),
        etag=item.get("ETag"),
        storage_class=item.get("StorageClass"),
    )


def info_from_response(response: Mapping[str, Any]) -> ObjectInfo:
    """ObjectInfo from a HeadObject/GetObject response (size from ContentRange when ranged)."""
    size = response.get("ContentLength", 0)
    content_range = response.get("ContentRange")
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        size = int(total) if total.isdigit() else size
    return ObjectInfo(
        is_file=True,
        is_dir=False,
        size=size,
        mtime=timestamp(response.get("LastModified")),
        etag=response.get("ETag"),
        storage_class=response.get("StorageClass", "STANDARD"),
        content_type=response.get("ContentType"),
    )


def response_date(response: Mapping[str, Any]) -> float | None:
    """The server's ``Date`` header as a timestamp: the best mtime a PutObject response offers."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    value = headers.get("last-modified") or headers.get("date")
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def timestamp(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def listing_from_pages(prefix: str, pages: Iterable[Mapping[str, Any]]) -> Listing:
    """One directory's listing from ListObjectsV2 pages fetched with ``Delimiter='/'``."""
    builder = ListingBuilder()
    start = len(prefix)
    for page in pages:
        for item in page.get("Contents", ()):
            name = item["Key"][start:]
            if name:
                builder.add(name, info_from_contents(item))
            else:
                builder.marker = info_from_contents(item)
        for common in page.get("CommonPrefixes", ()):
            builder.add(common["Prefix"][start:-1], DIRECTORY)
    return builder.build(dir_exists=not prefix)


def tree_from_pages(prefix: str, pages: Iterable[Mapping[str, Any]]) -> dict[str, Listing]:
    """Every directory below ``prefix`` (its full prefix -> Listing) from one flat listing."""
    return tree_from_objects(prefix, ((item["Key"], info_from_contents(item))
                                      for page in pages for item in page.get("Contents", ())))


# -- JSON codec for the persistent cache (no pickle: a cache file must never be able to run code) -----


def encode(value: Any) -> str:
    """JSON text for a cached answer (ObjectInfo, Listing, a tree of listings, NOT_FOUND, or plain JSON)."""
    return json.dumps(_to_json(value), separators=(",", ":"))


def decode(text: str) -> Any:
    """The answer :func:`encode` wrote; ``ValueError`` for anything else (another version's rows, a
    damaged or crafted file): a cache file is never trusted further than its shape."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise ValueError("not a cached answer")
    return _from_json(data)


def _info_fields(info: ObjectInfo) -> list[Any]:
    return [info.is_file, info.is_dir, info.size, info.mtime, info.etag, info.storage_class, info.content_type]


def _listing_json(listing: Listing) -> dict[str, Any]:
    return {"c": {name: _info_fields(info) for name, info in listing.children.items()},
            "m": _info_fields(listing.marker) if listing.marker else None, "r": listing.dir_exists}


_FIELD_TYPES = ((bool,), (bool,), (int,), (int, float, type(None)), (str, type(None)), (str, type(None)),
                (str, type(None)))


def _info_from(fields: Any) -> ObjectInfo:
    """An ObjectInfo from its stored fields, checked one by one (a size is a whole number, never text)."""
    if not isinstance(fields, list) or len(fields) != len(_FIELD_TYPES):
        raise ValueError("not an object's facts")
    for value, types in zip(fields, _FIELD_TYPES, strict=True):
        if not isinstance(value, types) or (types == (int,) and (isinstance(value, bool) or value < 0)):
            raise ValueError(f"{value!r} is not a stored fact of that kind")
    return ObjectInfo(*fields)


def _listing_from(data: Any) -> Listing:
    if not isinstance(data, dict) or not isinstance(data.get("c"), dict) or not isinstance(data.get("r"), bool):
        raise ValueError("not a listing")
    children = {}
    for name, fields in data["c"].items():
        if "/" in name:  # a delimiter listing never names a child with a '/'
            raise ValueError(f"{name!r} cannot be a child in a listing")
        children[name] = _info_from(fields)
    marker = _info_from(data["m"]) if data.get("m") is not None else None
    return Listing(MappingProxyType(children), marker, data["r"])


def _to_json(value: Any) -> Any:
    from ..cache import NOT_FOUND

    if value is NOT_FOUND:
        return {"t": "missing"}
    if isinstance(value, ObjectInfo):
        return {"t": "info", "v": _info_fields(value)}
    if isinstance(value, Listing):
        return {"t": "listing", "v": _listing_json(value)}
    if isinstance(value, dict) and value and all(isinstance(v, Listing) for v in value.values()):
        return {"t": "tree", "v": {prefix: _listing_json(listing) for prefix, listing in value.items()}}
    return {"t": "json", "v": value}


def _from_json(data: dict[str, Any]) -> Any:
    from ..cache import NOT_FOUND

    kind, value = data["t"], data.get("v")
    if kind == "missing":
        return NOT_FOUND
    if kind == "info":
        return _info_from(value)
    if kind == "listing":
        return _listing_from(value)
    if kind == "tree":
        if not isinstance(value, dict) or not all(p == "" or p.endswith("/") for p in value):
            raise ValueError("not a tree of listings")
        return {prefix: _listing_from(listing) for prefix, listing in value.items()}
    if kind == "json" and _plain(value):
        return value
    raise ValueError(f"unknown kind of cached answer {kind!r}")


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any, depth: int = 0) -> bool:
    """Bucket names, an object's metadata: shallow JSON of strings, numbers and flags."""
    if isinstance(value, _SCALARS):
        return not isinstance(value, int) or isinstance(value, bool) or value >= 0
    if depth >= 3:
        return False
    if isinstance(value, list):
        return all(_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False
