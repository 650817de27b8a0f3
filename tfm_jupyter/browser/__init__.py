"""The two-pane browser widget: ``browse(left, right)`` or ``%tfm`` (needs anywidget)."""

from __future__ import annotations

from typing import Any

__all__ = ["browse"]


def browse(left: Any = None, right: Any = None) -> Any:
    """Open the two-pane browser: ``left`` defaults to the magics' location, ``right`` to the bucket list."""
    from .widget import Browser

    return Browser(left, right)
