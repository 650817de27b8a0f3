"""Rows for a pane, page by page: from S3 (through the cache) or from a local folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .. import errors
from ..path import S3Path
from ..s3.entries import Listing
from .pane import Row

__all__ = ["list_rows"]

LOCAL_PAGE = 1000


def list_rows(cwd: Any) -> Iterator[tuple[list[Row], bool, bool]]:
    """Yield ``(rows, from_cache, done)`` pages for ``cwd``; the last page has ``done=True``."""
    if isinstance(cwd, S3Path):
        yield from _s3_rows(cwd)
    else:
        yield from _local_rows(cwd)


def _rows_of(listing: Listing) -> list[Row]:
    return [Row(name, info.is_dir, None if info.is_dir else info.size, info.mtime)
            for name, info in listing.children.items()]


def _s3_rows(cwd: S3Path) -> Iterator[tuple[list[Row], bool, bool]]:
    from ..s3.stores import get_store

    store = get_store()
    if not cwd.bucket:
        yield [Row(name, True) for name in store.list_buckets()], False, True
        return
    cached = store.known_listing(cwd.bucket, cwd.dir_prefix) is not None
    exists = False
    for page in store.iter_listing_pages(cwd.bucket, cwd.dir_prefix):
        exists = exists or page.exists
        yield _rows_of(page), cached, False
    if not exists:
        raise errors.NotFound("No such file or directory", str(cwd), "list")
    yield [], cached, True


def _local_rows(cwd: Any) -> Iterator[tuple[list[Row], bool, bool]]:
    page: list[Row] = []
    with os.scandir(cwd) as entries:
        for entry in entries:
            try:
                is_dir = entry.is_dir()
                stat = entry.stat()
            except OSError:  # a broken link or a file removed meanwhile
                continue
            page.append(Row(entry.name, is_dir, None if is_dir else stat.st_size, stat.st_mtime))
            if len(page) >= LOCAL_PAGE:
                yield page, False, False
                page = []
    yield page, False, True
