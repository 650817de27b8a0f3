"""File objects for S3 keys: a seekable streaming reader and an all-or-nothing writer.

Reading streams one GetObject from the current position and only issues a new ranged GET after a
seek, so a sequential read is one request and parquet footers need no full download.  Writing
spools to a temporary file and uploads on a clean ``close()``; an exception inside ``with`` or an
explicit ``discard()`` uploads nothing, so the previous object stays untouched.
"""

from __future__ import annotations

import io
from typing import Any

from .. import errors
from ..backends.base import SpooledWriter, open_with_mode
from .entries import ObjectInfo, info_from_response

__all__ = ["S3Reader", "S3Writer", "open_reader", "open_s3"]

SEEK_SKIP_LIMIT = 256 * 2**10  # forward seeks up to this far read through instead of a new request
SINGLE_PUT_LIMIT = 64 * 2**20  # above this, closing a writer uses a managed multipart upload
STREAM_RESUMES = 3
RANGE_WINDOW = 64 * 2**10  # after a seek, a GET asks for what is read (at least this), not the rest of the object
MAX_READ_AHEAD = 8 * 2**20  # reading on past a range asks for twice the last read-ahead, up to this


class S3Reader(io.RawIOBase):
    """Raw, seekable reader of one object (wrap in ``io.BufferedReader``).

    A read from the start with no seek before it is a whole-file read: one GET of the whole object
    (without ``info`` it is sent when the reader opens, and tells the size).  After a seek, every GET
    asks for a bounded range: what is read (at least ``RANGE_WINDOW``), and reading on past its end
    asks for twice the previous read-ahead (64 KiB, 128 KiB … up to ``MAX_READ_AHEAD``), never the
    rest of the object - so random access (a parquet footer, then the chunks of one column) asks for
    little more than what it reads.  Given the object's ``info`` (size and ETag, from a cached
    listing), no request is made until the first read.
    """

    def __init__(self, store: Any, bucket: str, key: str, info: ObjectInfo | None = None):
        super().__init__()
        self._store, self._bucket, self._key = store, bucket, key
        self.name = f"s3://{bucket}/{key}"
        self._stream: Any = None
        self._stream_end: int | None = None  # the last byte the open stream sends (None: the object's last)
        self._seeked = False  # random access began: ranges from now on
        self._read_ahead = RANGE_WINDOW
        if info is not None and info.is_file and info.etag:
            self._size, self._etag = info.size, info.etag
        else:
            response, self._stream = store.open_stream(bucket, key)
            info = info_from_response(response)
            self._size, self._etag = info.size, info.etag
        self._pos = self._stream_pos = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def etag(self) -> str | None:
        return self._etag

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._checkClosed()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence ({whence})")
        position = base + offset
        if position < 0:
            raise OSError(22, "Invalid argument: negative seek position")
        if position != self._pos:
            self._seeked = True
        self._pos = position
        return position

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._pos)
        if wanted <= 0:
            return 0
        data = self._read_from_stream(wanted)
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        self._checkClosed()
        chunks = []
        while self._pos < self._size:
            chunks.append(self._read_from_stream(self._size - self._pos))
        return b"".join(chunks)

    def _read_from_stream(self, amount: int) -> bytes:
        for attempt in range(STREAM_RESUMES + 1):
            try:
                self._position_stream(amount)
                data = self._stream.read(amount)
                if not data:
                    raise errors.ServiceError("GetObject: the response ended before the object did",
                                              self.name, "GetObject")
            except (errors.ServiceError, errors.S3Timeout):
                # The connection broke mid-body: resume from here, but only from the same object
                # (the ranged GET carries If-Match with the ETag we started with).
                self._drop_stream()
                if attempt == STREAM_RESUMES:
                    raise
                continue
            self._pos += len(data)
            self._stream_pos = self._pos
            return data
        raise AssertionError("unreachable")

    def _position_stream(self, amount: int) -> None:
        gap = self._pos - self._stream_pos
        if self._stream is not None and 0 < gap <= SEEK_SKIP_LIMIT and self._pos <= self._last_streamed():
            while gap > 0:
                skipped = self._stream.read(min(gap, 65536))
                if not skipped:
                    break
                gap -= len(skipped)
                self._stream_pos += len(skipped)
        if self._stream is None or self._stream_pos != self._pos or self._pos > self._last_streamed():
            continuing = self._stream_end is not None and self._pos == self._stream_end + 1
            self._drop_stream()
            if not self._seeked and self._pos == 0:
                end = None  # a whole-file read: one GET
            else:
                self._read_ahead = min(MAX_READ_AHEAD, self._read_ahead * 2) if continuing else RANGE_WINDOW
                end = min(self._size, self._pos + max(amount, self._read_ahead)) - 1
            _, self._stream = self._store.open_stream(self._bucket, self._key, start=self._pos, end=end,
                                                      etag=self._etag)
            self._stream_pos, self._stream_end = self._pos, end

    def _last_streamed(self) -> int:
        return self._size - 1 if self._stream_end is None else self._stream_end

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._drop_stream()
        super().close()


class S3Writer(SpooledWriter):
    """Collects bytes and uploads them as one object on ``close()`` (never a partial object)."""

    def __init__(self, store: Any, bucket: str, key: str, *, exclusive: bool = False, initial: bytes = b""):
        super().__init__(f"s3://{bucket}/{key}")
        self._store, self._bucket, self._key = store, bucket, key
        self._exclusive = exclusive
        self.write(initial)

    def _commit(self, spool: Any, size: int) -> None:
        if size <= SINGLE_PUT_LIMIT:
            self._store.write(self._bucket, self._key, spool.read(), exclusive=self._exclusive)
        else:
            self._store.upload(self._bucket, self._key, spool, size=size)


def open_reader(store: Any, bucket: str, key: str, buffering: int = -1) -> Any:
    """A seekable binary reader.  Small objects are read whole by one GET and their body is kept,
    so reading them again costs nothing; bigger ones stream, and a seek costs one ranged GET (a
    parquet footer or column chunk is read by range, never the whole object)."""
    cached = store.cached_body(bucket, key)
    if cached is not None:
        return _named(io.BytesIO(cached), bucket, key)
    generation = store.generation(bucket)  # before the GET: a write meanwhile keeps its body
    raw = S3Reader(store, bucket, key, store.known_info(bucket, key))
    if raw.size > store.body_limit:
        if buffering == 0:
            return raw
        # A small buffer: after a seek the buffer's size is what one ranged GET asks for.
        return io.BufferedReader(raw, buffer_size=buffering if buffering > 1 else RANGE_WINDOW)
    with raw:
        data = raw.readall()
    store.remember_body(bucket, key, raw.etag, data, generation)
    return _named(io.BytesIO(data), bucket, key)


def _named(stream: io.BytesIO, bucket: str, key: str) -> io.BytesIO:
    stream.name = f"s3://{bucket}/{key}"  # type: ignore[attr-defined]
    return stream


def open_s3(store: Any, bucket: str, key: str, mode: str = "r", buffering: int = -1,
            encoding: str | None = None, errors_: str | None = None, newline: str | None = None,
            *, exists: Any = None) -> Any:
    """``open()`` for an S3 key.  Modes: r, w, x, a (each with b or t); ``+`` is not supported.

    ``exists`` is a callable answering whether the key exists (for ``x`` and ``a``).
    """
    return open_with_mode(
        f"s3://{bucket}/{key}", mode, buffering, encoding, errors_, newline,
        reader=lambda size: open_reader(store, bucket, key, size),
        writer=lambda exclusive, initial: S3Writer(store, bucket, key, exclusive=exclusive, initial=initial),
        exists=exists, read_all=lambda: store.read(bucket, key))
