"""What a sync did (or, in a dry run, would do): :class:`SyncReport`, in text, HTML and pandas."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from .units import human_size as _size
from .units import plural

__all__ = ["SyncItem", "SyncReport"]

SHOWN = 20  # rows of each kind that the text and HTML forms list


@dataclass
class SyncItem:
    """One file of a sync: its path relative to both roots, size, and why it is listed."""

    path: str
    size: int = 0
    reason: str = ""
    error: str | None = None
    mtime: float | None = None
    etag: str | None = field(default=None, repr=False)  # the source's, so a copy needs no HeadObject


@dataclass
class SyncReport:
    """``copied`` (new or changed at the source), ``deleted`` (only at the target, with ``delete``),
    ``skipped`` (unchanged), ``failed`` (with each error), the bytes copied and the S3 requests sent.
    In a dry run the lists say what would happen and nothing was written.  ``checksum_fallback``
    names the files whose content ``checksum`` could not compare (an ETag no MD5 explains): for those
    the size-and-time rule decided."""

    source: str
    target: str
    dryrun: bool = False
    copied: list[SyncItem] = field(default_factory=list)
    deleted: list[SyncItem] = field(default_factory=list)
    skipped: list[SyncItem] = field(default_factory=list)
    failed: list[SyncItem] = field(default_factory=list)
    checksum_fallback: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def bytes(self) -> int:
        """Bytes copied (or, in a dry run, to copy)."""
        return sum(item.size for item in self.copied)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        verb = ("would copy", "would delete") if self.dryrun else ("copied", "deleted")
        text = (f"sync {self.source} → {self.target}{' (dry run: nothing changed)' if self.dryrun else ''}: "
                f"{verb[0]} {len(self.copied)} ({_size(self.bytes)}), {verb[1]} {len(self.deleted)}, "
                f"{len(self.skipped)} unchanged")
        if self.failed:
            text += f", {len(self.failed)} FAILED (nothing was deleted)"
        return text + f"; {self.requests} S3 requests"

    def _rows(self) -> list[tuple[str, SyncItem]]:
        rows: list[tuple[str, SyncItem]] = []
        for action, items in (("failed", self.failed), ("copy", self.copied), ("delete", self.deleted)):
            rows.extend((action, item) for item in items[:SHOWN])
        return rows

    def __repr__(self) -> str:
        lines = [self.summary()]
        for action, item in self._rows():
            detail = item.error if item.error else item.reason
            lines.append(f"  {action:<7} {item.path!r}  {_size(item.size) if action == 'copy' else ''}  {detail}")
        hidden = sum(max(0, len(items) - SHOWN) for items in (self.failed, self.copied, self.deleted))
        if hidden:
            lines.append(f"  … and {hidden} more (see .to_pandas())")
        if self.checksum_fallback:
            fallback = plural(len(self.checksum_fallback), "file")
            lines.append(f"  checksum could not compare {fallback}; size and time decided")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr class='tfm-sync-{action}'><td>{action}</td><td>{html.escape(item.path)}</td>"
            f"<td>{_size(item.size)}</td><td>{html.escape(item.error or item.reason)}</td></tr>"
            for action, item in self._rows())
        return (f"<div class='tfm-sync-report'><p>{html.escape(self.summary())}</p>"
                f"<table><tr><th>action</th><th>path</th><th>size</th><th>why</th></tr>{cells}</table></div>")

    def to_pandas(self) -> Any:
        """One row per file: action (copy, delete, skip, failed), path, size, reason, error."""
        import pandas as pd

        rows = [{"action": action, "path": item.path, "size": item.size, "reason": item.reason, "error": item.error}
                for action, items in (("copy", self.copied), ("delete", self.deleted), ("skip", self.skipped),
                                      ("failed", self.failed))
                for item in items]
        return pd.DataFrame(rows, columns=["action", "path", "size", "reason", "error"])
