"""Rows for a pane, page by page, from whatever storage the pane shows (through its backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import errors
from ..entries import Listing
from .pane import Row

__all__ = ["list_rows"]


def list_rows(cwd: Any) -> Iterator[tuple[list[Row], bool, bool]]:
    """Yield ``(rows, from_cache, done)`` pages for ``cwd``; the last page has ``done=True``."""
    backend = cwd.backend
    cached = backend.cached_listing(cwd) is not None
    exists = False
    for page in backend.iter_listing_pages(cwd):
        exists = exists or page.exists
        yield _rows_of(page), cached, False
    if not exists:
        raise errors.NotFound("No such file or directory", str(cwd), "list")
    yield [], cached, True


def _rows_of(listing: Listing) -> list[Row]:
    return [Row(name, info.is_dir, None if info.is_dir else info.size, info.mtime)
            for name, info in listing.children.items()]
