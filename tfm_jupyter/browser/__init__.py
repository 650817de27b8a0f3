"""The two-pane browser widget: ``browse(left, right)`` or ``%tfm`` (needs anywidget)."""

from __future__ import annotations

from typing import Any

__all__ = ["browse"]


def browse(left: Any = None, right: Any = None, *, inventories: dict[str, Any] | None = None) -> Any:
    """Open the two-pane browser: ``left`` defaults to the magics' location, ``right`` to the bucket list.

    ``inventories``: ``{"s3://bucket": "s3://…/manifest.json"}``; the usage view (U) below such a folder
    counts from that S3 Inventory report instead of listing.
    """
    from .widget import Browser

    return Browser(left, right, inventories=inventories)
