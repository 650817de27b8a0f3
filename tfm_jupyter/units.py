"""Sizes and times as users type them (``10k``, ``1.5M``, ``2024-01-31``, ``7d``): pure parsing, no I/O."""

from __future__ import annotations

import re
import time
from datetime import datetime

from .errors import CommandError

__all__ = ["parse_size", "parse_when"]


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
