"""The request meter over every storage backend: what this process sent, what the caches saved, and
what it cost.

Each backend counts its own requests (S3's HTTP attempts, SFTP's and FTP's round trips, …) and
prices them (:meth:`~tfm_jupyter.backends.Backend.request_cost`); this module reads them all, so a
cell's meter line, the browser's counter and a sync report speak of every storage, not only S3.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .backends import live_backends

__all__ = ["Reading", "reading"]


@dataclass(frozen=True)
class Reading:
    """Requests made and saved, by ``(backend label, operation)``, at one moment (subtract two for a
    delta), and their estimated cost in USD."""

    requests: Counter[tuple[str, str]]
    saved: Counter[tuple[str, str]]
    cost: float = 0.0

    def __sub__(self, earlier: Reading) -> Reading:
        return Reading(self.requests - earlier.requests, self.saved - earlier.saved, self.cost - earlier.cost)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def total_saved(self) -> int:
        return sum(self.saved.values())

    def by_backend(self) -> dict[str, int]:
        """Requests by backend label (S3 first, then by name)."""
        counts: Counter[str] = Counter()
        for (label, _), count in self.requests.items():
            counts[label] += count
        return dict(sorted(counts.items(), key=lambda item: (item[0] != "S3", item[0])))

    def summary(self) -> str:
        """``'3 S3 requests (41 saved by the cache), about $0.000015'``; other storages named too."""
        counts = self.by_backend() or {"S3": 0}
        parts = [f"{count} {label} request{'' if count == 1 else 's'}" for label, count in counts.items()]
        return f"{', '.join(parts)} ({self.total_saved} saved by the cache), about ${max(self.cost, 0.0):.6f}"


def reading() -> Reading:
    """Every live backend's requests, saved requests and their cost, now."""
    requests: Counter[tuple[str, str]] = Counter()
    saved: Counter[tuple[str, str]] = Counter()
    cost = 0.0
    for backend in {id(b): b for b in live_backends().values()}.values():
        for operation, count in backend.request_counts().items():
            requests[backend.label, operation] += count
            cost += backend.request_cost(operation) * count
        for operation, count in backend.saved_counts().items():
            saved[backend.label, operation] += count
    return Reading(requests, saved, cost)
