"""Sizes, times and filters as users type them (``10k``, ``1.5M``, ``2024-01-31``, ``7d``,
``--exclude "*" --include "*.csv"``): pure parsing, no I/O."""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from .errors import CommandError

__all__ = ["human_size", "make_filter", "parse_size", "parse_when", "plural"]


def parse_size(text: str) -> int:
    """``'10k' -> 10240``, ``'1.5M'``, ``'2G'``, plain bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text, re.IGNORECASE)
    if not match:
        raise CommandError(f"invalid size {text!r} (examples: 500, 10k, 1.5M, 2G)")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def parse_when(text: str) -> float:
    """A timestamp from ``'2024-01-31'``, ``'2024-01-31T12:00'`` or an age like ``'3d'``/``'12h'``/``'30m'``."""
    age = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if age:
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[age.group(2)]
        return time.time() - float(age.group(1)) * seconds
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise CommandError(f"invalid date {text!r} (examples: 2024-01-31, 2024-01-31T12:00, 7d, 12h)") from None


def make_filter(rules: Iterable[tuple[str, str]]) -> Callable[[str], bool] | None:
    """``aws s3``-style ``--exclude``/``--include``: in order, the last matching rule decides."""
    rules = list(rules)
    if not rules:
        return None

    def select(relative: str) -> bool:
        keep = True
        for kind, pattern in rules:
            if fnmatch.fnmatchcase(relative, pattern):
                keep = kind == "include"
        return keep

    return select


def plural(count: int, word: str, many: str | None = None) -> str:
    """``'1 file'``, ``'2 files'``, ``'1,200 entries'`` (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def utc_minute(when: datetime) -> str:
    """``'2026-11-30 21:32 UTC'``: when an inventory was taken, as every result shows it."""
    return f"{when:%Y-%m-%d %H:%M} UTC"


def human_size(size: float | None) -> str:
    """``1536 -> '1.5 KiB'``."""
    if size is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
