"""A seekable reader over ranged reads: what an object store's ``open_read`` needs when its SDK can
fetch "bytes ``start`` to ``end``" (Azure Blob, Google Cloud Storage).

Reads ask for what they use, as S3's reader does: a read from the start with no seek before it is a
stream (big ranges, growing), and after a seek each fetch asks for what is read (at least 64 KiB)
and reading on asks for twice the previous read-ahead, up to 8 MiB - never the rest of the object.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

__all__ = ["RangedReader"]

WINDOW = 64 * 2**10
STREAM_FIRST = 8 * 2**20  # a whole-file read fetches this much at once, then twice as much each time
MAX_AHEAD = 64 * 2**20


class RangedReader(io.RawIOBase):
    """``fetch(start, end)`` returns bytes ``start`` to ``end`` inclusive of an object of ``size``."""

    def __init__(self, fetch: Callable[[int, int], bytes], size: int, name: str):
        super().__init__()
        self._fetch, self._size, self.name = fetch, size, name
        self._position = 0
        self._buffer, self._buffer_start = b"", 0
        self._seeked = False
        self._ahead = WINDOW

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        position = base + offset
        if position < 0:
            raise OSError(22, "Invalid argument: negative seek position")
        if position != self._position:
            self._seeked = True
        self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        offset = self._position - self._buffer_start
        if not 0 <= offset < len(self._buffer):
            self._refill(wanted)
            offset = 0
        chunk = self._buffer[offset:offset + wanted]
        view[:len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def _refill(self, wanted: int) -> None:
        continuing = self._buffer and self._position == self._buffer_start + len(self._buffer)
        if not self._seeked and (self._position == 0 or continuing):
            self._ahead = STREAM_FIRST if self._position == 0 else min(MAX_AHEAD, self._ahead * 2)
        elif continuing:
            self._ahead = min(MAX_AHEAD // 8, self._ahead * 2)
        else:
            self._ahead = WINDOW
        end = min(self._size, self._position + max(wanted, self._ahead)) - 1
        self._buffer, self._buffer_start = self._fetch(self._position, end), self._position

    def readall(self) -> bytes:
        parts = []
        while self._position < self._size:
            parts.append(self.read(self._size - self._position))
        return b"".join(parts)
