"""One pane of the browser as a plain object: location, rows, focus, selection, sort, filter, search.

No widget and no I/O here: the widget feeds rows in and applies what the front end reports.  The
front end (``js/src/logic.js``) implements the same ordering and filtering rules, and both are
tested against the same cases (``js/test/fixtures/visible_rows.json``).

Rules: directories come first; ``sort`` is ``name``, ``ext``, ``size`` or ``date``, names compare
case-insensitively and break ties; hidden names start with ``.``; the filter is a case-insensitive
glob on file names (directories stay visible so you can still navigate).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SORTS", "PaneState", "Row", "visible_rows"]

SORTS = ("name", "ext", "size", "date")


@dataclass(frozen=True, slots=True)
class Row:
    """One entry of a pane (wire form: ``[name, is_dir, size, mtime]``)."""

    name: str
    is_dir: bool
    size: int | None = None
    mtime: float | None = None

    def wire(self) -> list[Any]:
        return [self.name, 1 if self.is_dir else 0, self.size, self.mtime]

    @classmethod
    def from_wire(cls, item: list[Any]) -> Row:
        return cls(item[0], bool(item[1]), item[2], item[3])


def extension(name: str) -> str:
    """``'a.tar.gz' -> 'gz'``; ``'.bashrc' -> ''`` (like pathlib's suffix)."""
    dot = name.rfind(".")
    return name[dot + 1:].lower() if dot > 0 else ""


def _utf16(text: str) -> bytes:
    # JavaScript compares strings by UTF-16 code units; sorting by the same keys keeps both sides equal.
    return text.encode("utf-16-be", "surrogatepass")


def _sort_key(sort: str) -> Any:
    def name_key(row: Row) -> tuple[bytes, bytes]:
        return (_utf16(row.name.lower()), _utf16(row.name))

    keys = {
        "name": name_key,
        "ext": lambda row: (_utf16(extension(row.name)), *name_key(row)),
        "size": lambda row: (row.size or 0, *name_key(row)),
        "date": lambda row: (row.mtime or 0, *name_key(row)),
    }
    return keys[sort]


def glob_regex(pattern: str) -> re.Pattern[str] | None:
    """Case-insensitive glob; a pattern without wildcards matches names containing it."""
    if not pattern:
        return None
    if not any(ch in pattern for ch in "*?["):
        pattern = f"*{pattern}*"
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def visible_rows(rows: Iterable[Row], *, sort: str = "name", descending: bool = False,
                 show_hidden: bool = False, pattern: str = "") -> list[Row]:
    """The rows a pane shows, in order."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    regex = glob_regex(pattern)
    shown = [row for row in rows
             if (show_hidden or not row.name.startswith("."))
             and (row.is_dir or regex is None or regex.match(row.name))]
    key = _sort_key(sort)
    dirs = sorted((r for r in shown if r.is_dir), key=key, reverse=descending)
    files = sorted((r for r in shown if not r.is_dir), key=key, reverse=descending)
    return dirs + files


@dataclass
class PaneState:
    """Everything one pane knows; ``cwd`` is a ``Path`` (``s3://`` shows the bucket list)."""

    cwd: Any
    rows: list[Row] = field(default_factory=list)
    focus: str | None = None
    selection: set[str] = field(default_factory=set)
    sort: str = "name"
    descending: bool = False
    show_hidden: bool = False
    pattern: str = ""
    listing: int = 0  # bumped on every new listing; stale pages are ignored
    complete: bool = False
    cached: bool = False
    wanted: str | None = None  # the name to focus once it arrives (e.g. the folder we came up from)

    # -- rows ------------------------------------------------------------------------------------

    def start_listing(self, cwd: Any, focus: str | None = None) -> int:
        """Switch to ``cwd``: rows and selection start empty, ``focus`` is taken as soon as that name
        arrives (else the first row); returns the listing id."""
        self.cwd, self.rows, self.focus, self.selection = cwd, [], None, set()
        self.listing += 1
        self.complete = self.cached = False
        self.wanted = focus
        return self.listing

    def add_rows(self, listing: int, rows: Iterable[Row], done: bool = False) -> bool:
        """Append a page of rows to ``listing``; False (ignored) if the pane moved on meanwhile."""
        if listing != self.listing:
            return False
        rows = list(rows)
        self.rows.extend(rows)
        self.complete = done
        if self.wanted is not None and any(r.name == self.wanted for r in rows):
            self.focus, self.wanted = self.wanted, None
        elif self.focus is None and self.rows:
            visible = self.visible()
            self.focus = visible[0].name if visible else None
        return True

    def visible(self) -> list[Row]:
        return visible_rows(self.rows, sort=self.sort, descending=self.descending, show_hidden=self.show_hidden,
                            pattern=self.pattern)

    def row(self, name: str | None) -> Row | None:
        return next((r for r in self.rows if r.name == name), None) if name is not None else None

    # -- what actions apply to ------------------------------------------------------------------------
    # (the cursor, selection, sort and filter move in the front end, js/src/logic.js; this side only
    # takes what it reports, in apply_state)

    def chosen(self) -> list[Row]:
        """What an action applies to: the selection, or else the focused row."""
        if self.selection:
            return [r for r in self.visible() if r.name in self.selection] or [
                r for r in self.rows if r.name in self.selection]
        row = self.row(self.focus)
        return [row] if row is not None else []

    # -- the wire (the widget's per-pane traits) -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything but the selection: small, so it can travel with every key press."""
        return {"cwd": str(self.cwd), "focus": self.focus, "sort": self.sort,
                "descending": self.descending, "show_hidden": self.show_hidden, "pattern": self.pattern,
                "listing": self.listing, "complete": self.complete, "cached": self.cached}

    def selection_state(self) -> dict[str, Any]:
        """The selection, in a trait of its own so that moving the cursor never resends it."""
        return {"listing": self.listing, "names": sorted(self.selection)}

    def apply_state(self, state: dict[str, Any]) -> None:
        """Take what the front end changed (focus, selection, sort, filter, hidden)."""
        if state.get("listing", self.listing) != self.listing:
            return  # about an older listing
        self.focus = state.get("focus", self.focus)
        self.selection = set(state.get("selection", self.selection))
        self.sort = state.get("sort", self.sort) if state.get("sort") in SORTS else self.sort
        self.descending = bool(state.get("descending", self.descending))
        self.show_hidden = bool(state.get("show_hidden", self.show_hidden))
        self.pattern = str(state.get("pattern", self.pattern) or "")
