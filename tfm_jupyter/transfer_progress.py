"""Progress of a transfer, from its worker threads: a tqdm bar, or the user's callback."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["BAR_MIN_BYTES", "BAR_MIN_FILES", "Progress", "ProgressCallback", "TransferProgress"]

ProgressCallback = Callable[[int, int, int, int], None]
Progress = ProgressCallback | bool | None
BAR_MIN_BYTES = 32 * 2**20
BAR_MIN_FILES = 50


class TransferProgress:
    """Aggregates progress from worker threads into a tqdm bar or the user's callback.

    While a big tree is still being listed the totals grow with each page, and the bar says so.
    """

    def __init__(self, progress: Progress, total_bytes: int, total_files: int, description: str,
                 listing: bool = False):
        self._lock = threading.Lock()
        self.bytes_done = self.files_done = 0
        self.total_bytes, self.total_files = total_bytes, total_files
        self.listing = listing
        self._callback = progress if callable(progress) else None
        self._wants_bar, self._description = progress is None, description
        self._bar: Any = None
        self._show_bar()

    def _show_bar(self) -> None:
        if self._bar is None and self._wants_bar and (self.total_bytes >= BAR_MIN_BYTES
                                                      or self.total_files >= BAR_MIN_FILES):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total_bytes, initial=self.bytes_done, unit="B", unit_scale=True,
                             unit_divisor=1024, desc=self._description)

    def planned(self, more_bytes: int, more_files: int) -> None:
        """A listing page added files to the transfer."""
        with self._lock:
            self.total_bytes += more_bytes
            self.total_files += more_files
            self._show_bar()
            if self._bar is not None:
                self._bar.total = self.total_bytes
            self._report(0)

    def listed(self) -> None:
        """The listing is complete: the totals are final."""
        with self._lock:
            self.listing = False
            self._report(0)

    def add_bytes(self, amount: int) -> None:
        with self._lock:
            self.bytes_done += amount
            self._report(amount)

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            self._report(0)

    def _files(self) -> str:
        return f"{self.files_done}/{self.total_files} files" + (", listing…" if self.listing else "")

    def _report(self, amount: int) -> None:
        if self._bar is not None:
            self._bar.update(amount)
            self._bar.set_postfix_str(self._files(), refresh=False)
        if self._callback is not None:
            self._callback(self.bytes_done, self.total_bytes, self.files_done, self.total_files)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._files(), refresh=True)
            self._bar.close()
