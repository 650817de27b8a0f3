"""What is using the storage below a folder: bytes and files by sub-folder and storage class, and what
they cost a month (the ncdu question), from one survey of the backend (on S3 one flat listing), or
from an S3 Inventory report (no listing at all)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .path import Path
from .units import utc_minute

__all__ = ["FolderUsage", "Usage", "usage"]

HERE = ""  # the group of the files directly in the folder


@dataclass
class FolderUsage:
    """One sub-folder (or, named ``""``, the files directly in the folder)."""

    name: str
    bytes: int = 0
    files: int = 0
    by_class: dict[str, int] = field(default_factory=dict)  # storage class -> bytes
    monthly_cost: float | None = 0.0  # USD; None where the storage has no known price


@dataclass
class Usage:
    """The answer of :func:`usage`: biggest folders first."""

    root: Any
    folders: list[FolderUsage]
    requests: int  # what the answer cost (0 when the listing came from the cache)
    inventory_time: Any = None  # when the inventory it was counted from was taken (None: a live listing)

    @property
    def bytes(self) -> int:
        return sum(folder.bytes for folder in self.folders)

    @property
    def files(self) -> int:
        return sum(folder.files for folder in self.folders)

    @property
    def monthly_cost(self) -> float | None:
        costs = [folder.monthly_cost for folder in self.folders]
        return None if any(cost is None for cost in costs) else sum(costs)  # type: ignore[misc]

    def to_state(self) -> dict[str, Any]:
        """Plain data for the browser's usage view."""
        return {"root": str(self.root), "bytes": self.bytes, "files": self.files, "requests": self.requests,
                "monthly_cost": self.monthly_cost,
                "inventory_time": utc_minute(self.inventory_time) if self.inventory_time else None,
                "folders": [{"name": f.name, "bytes": f.bytes, "files": f.files, "by_class": f.by_class,
                             "monthly_cost": f.monthly_cost} for f in self.folders]}


def usage(root: Any, inventory: Any = None) -> Usage:
    """Bytes, files and monthly cost below ``root``, by sub-folder and storage class (one survey; with
    ``inventory``, an S3 Inventory report's manifest URI, read from the report instead)."""
    root = Path(root)
    backend = root.backend
    before = sum(backend.request_counts().values())
    folders: dict[str, FolderUsage] = {}
    taken = None
    if inventory is None:
        files = _surveyed_files(root)
    else:
        from .inventory import report_for

        report, prefix = report_for(root, inventory)
        taken = report.created_at
        files = ((tuple(item.key[len(prefix):].split("/")[:-1]), item.size, item.storage_class)
                 for item in report.objects(prefix) if not item.key.endswith("/"))
    for relative, size, storage_class in files:
        name = relative[0] if relative else HERE
        group = folders.setdefault(name, FolderUsage(name))
        group.bytes += size
        group.files += 1
        group.by_class[storage_class or ""] = group.by_class.get(storage_class or "", 0) + size
    for group in folders.values():
        prices = {name: backend.storage_price(name) for name in group.by_class}
        group.monthly_cost = None if None in prices.values() else sum(
            prices[name] * size / 2**30 for name, size in group.by_class.items())
    spent = sum(backend.request_counts().values()) - before
    return Usage(root, sorted(folders.values(), key=lambda f: (-f.bytes, f.name)), spent, taken)


def _surveyed_files(root: Any) -> Iterator[tuple[tuple[str, ...], int, str | None]]:
    """``(folder below root, size, storage class)`` of every file below ``root``, from one survey."""
    survey = root.backend.survey(root)
    if survey.info is None:
        raise errors.NotFound("No such file or directory", str(root), "usage")
    if survey.pages is None:
        raise errors.NotADirectory("Not a directory: usage is of a folder", str(root), "usage")
    for page in survey.pages:
        for relative, listing in page.items():
            for info in listing.children.values():
                if info.is_file:
                    yield relative, info.size, info.storage_class  # no class: a local disk, SFTP
