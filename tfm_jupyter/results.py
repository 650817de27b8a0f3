"""Rich results of the commands and magics: plain-text and HTML reprs, iteration, ``to_pandas()``.

Object keys are untrusted: every name goes through :func:`html.escape` before it reaches HTML.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .units import human_size, plural, utc_minute

# Inline SVG, not emoji: emoji render as empty boxes where no emoji font is installed.
_SVG = ("<svg width='14' height='14' viewBox='0 0 16 16' aria-hidden='true' style='vertical-align:-2px'>"
        "<path fill='currentColor' d='{}'/></svg>")
FOLDER_ICON = _SVG.format("M1 3.5A1.5 1.5 0 0 1 2.5 2h3.6l1.5 1.5h5.9A1.5 1.5 0 0 1 15 5v7.5a1.5 1.5 0 0 1-1.5 "
                          "1.5h-11A1.5 1.5 0 0 1 1 12.5z")
FILE_ICON = _SVG.format("M3.5 1h6l3.5 3.5v9A1.5 1.5 0 0 1 11.5 15h-8A1.5 1.5 0 0 1 2 13.5v-11A1.5 1.5 0 0 1 3.5 1z"
                        "m5.5 1v3.5h3.5z")

__all__ = ["DiskUsage", "Entry", "GrepResult", "ListingResult", "TextResult", "TransferReport", "human_size"]


def _when(mtime: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime)) if mtime else ""


@dataclass(frozen=True)
class Entry:
    """One listed name."""

    path: Any
    name: str
    is_dir: bool
    size: int | None = None
    mtime: float | None = None


@dataclass
class ListingResult(Sequence[Any]):
    """What ``%s3ls`` / ``%s3find`` return: a sequence of ``Path`` objects with a table view."""

    root: Any
    entries: list[Entry]
    long: bool = False
    human: bool = False
    inventory_time: Any = None  # when the inventory the entries came from was taken (None: a live listing)

    def __iter__(self) -> Iterator[Any]:
        return (entry.path for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [entry.path for entry in self.entries[index]]
        return self.entries[index].path

    @property
    def paths(self) -> list[Any]:
        return list(self)

    def _size(self, entry: Entry) -> str:
        if entry.is_dir:
            return ""
        return human_size(entry.size) if self.human else str(entry.size if entry.size is not None else "")

    def _source(self) -> list[str]:
        """Where the entries came from, when not from a live listing."""
        return [f"(from the inventory of {utc_minute(self.inventory_time)})"] if self.inventory_time else []

    def __repr__(self) -> str:
        counted = self._source()
        if not self.entries:
            return "\n".join([f"(empty: {self.root})", *counted])
        if not self.long:
            return "\n".join([*(e.name + ("/" if e.is_dir else "") for e in self.entries), *counted])
        width = max(len(self._size(e)) for e in self.entries)
        lines = list(counted)
        for entry in self.entries:
            when = _when(entry.mtime).ljust(19) if not entry.is_dir else "PRE".rjust(19)
            lines.append(f"{when} {self._size(entry).rjust(width)} {entry.name}{'/' if entry.is_dir else ''}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for entry in self.entries:
            name = html.escape(entry.name + ("/" if entry.is_dir else ""))
            icon = FOLDER_ICON if entry.is_dir else FILE_ICON
            rows.append(f"<tr><td>{icon}</td><td style='text-align:left'>{name}</td>"
                        f"<td style='text-align:right'>{html.escape(self._size(entry))}</td>"
                        f"<td>{html.escape(_when(entry.mtime))}</td></tr>")
        caption = html.escape(" ".join([f"{self.root} — {plural(len(self.entries), 'entry', 'entries')}",
                                        *self._source()]))
        return ("<table class='tfm-listing'><caption style='text-align:left;white-space:nowrap'>" + caption
                + "</caption>"
                "<thead><tr><th></th><th style='text-align:left'>name</th><th>size</th><th>modified</th></tr>"
                "</thead><tbody>" + "".join(rows) + "</tbody></table>")

    def to_pandas(self) -> Any:
        """A DataFrame with columns path, name, is_dir, size, modified (requires pandas)."""
        import pandas as pd

        return pd.DataFrame({
            "path": [str(e.path) for e in self.entries],
            "name": [e.name for e in self.entries],
            "is_dir": [e.is_dir for e in self.entries],
            "size": pd.array([e.size for e in self.entries], dtype="Int64"),
            "modified": pd.to_datetime([e.mtime for e in self.entries], unit="s", utc=True),
        })


@dataclass
class DiskUsage:
    """What ``%s3du`` returns: numbers first (``.bytes``, ``.files``, ``.directories``)."""

    root: Any
    bytes: int
    files: int
    directories: int
    human: bool = False
    inventory_time: Any = None  # when the inventory it was counted from was taken (None: a live listing)

    def __int__(self) -> int:
        return self.bytes

    def __repr__(self) -> str:
        size = human_size(self.bytes) if self.human else f"{self.bytes} bytes"
        counted = f" (the inventory of {utc_minute(self.inventory_time)})" if self.inventory_time else ""
        return (f"{size} in {plural(self.files, 'file')}, {plural(self.directories, 'directory', 'directories')}: "
                f"{self.root}{counted}")


class TextResult(str):
    """A string that shows itself as plain text (``%s3cat``, ``%s3presign``, ``%s3pwd``)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


@dataclass
class TransferReport:
    """What ``%s3cp`` / ``%s3mv`` / ``%s3rm`` did (or, with ``--dryrun``, would do)."""

    action: str
    items: list[tuple[str, str]] = field(default_factory=list)  # (source, target or "")
    dryrun: bool = False
    note: str = ""

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        prefix = "(dryrun) " if self.dryrun else ""
        lines = [f"{prefix}{self.action}: {src}" + (f" -> {dst}" if dst else "") for src, dst in self.items[:50]]
        if len(self.items) > 50:
            lines.append(f"... and {len(self.items) - 50} more")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines) if lines else f"{prefix}{self.action}: nothing to do"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


@dataclass
class GrepResult(Sequence[Any]):
    """What ``%s3grep`` returns: matching lines (``.path``, ``.line_number``, ``.line``), like ``grep -rn``."""

    root: Any
    matches: list[Any]
    truncated: bool = False

    def __iter__(self) -> Iterator[Any]:
        return iter(self.matches)

    def __len__(self) -> int:
        return len(self.matches)

    def __getitem__(self, index: Any) -> Any:
        return self.matches[index]

    def __repr__(self) -> str:
        lines = [f"{m.path}:{m.line_number}:{m.line}" for m in self.matches]
        if self.truncated:
            lines.append("... more matches not shown (raise --limit)")
        return "\n".join(lines) if lines else f"(no matches below {self.root})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td style='text-align:left'>{html.escape(str(m.path))}</td><td>{m.line_number}</td>"
                       f"<td style='text-align:left'><code>{html.escape(m.line)}</code></td></tr>"
                       for m in self.matches)
        caption = html.escape(f"{len(self.matches)} matching lines below {self.root}")
        return (f"<table class='tfm-grep'><caption style='text-align:left'>{caption}</caption>"
                f"<thead><tr><th>file</th><th>line</th><th>text</th></tr></thead><tbody>{rows}</tbody></table>")

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"path": [str(m.path) for m in self.matches],
                             "line_number": [m.line_number for m in self.matches],
                             "line": [m.line for m in self.matches]})
