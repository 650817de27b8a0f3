"""Managed transfers with boto3's s3transfer: multipart, parallel parts, progress, cancel.

Each transfer runs on the client of the bucket it touches.  A copy between buckets served by the
same client is server-side (CopyObject, UploadPartCopy above 5 GiB); between two clients (another
endpoint or other credentials) no server can copy, so the object is streamed through this machine:
a GetObject body fed to a managed upload, multipart above 8 MiB, aborted on failure or cancel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO, Any

from .. import errors
from .client import S3Client, client_for, redact_library_logs

__all__ = ["COPY_THRESHOLD", "MULTIPART_THRESHOLD", "TransferBatch", "part_size", "upload_fileobj"]

MULTIPART_THRESHOLD = 8 * 2**20
COPY_THRESHOLD = 5 * 2**30  # CopyObject handles up to 5 GiB in one request
TARGET_PARTS = 10  # one part per transfer thread
MAX_PART = 512 * 2**20  # a failed part is retried whole: keep that bounded


def part_size(size: int) -> int:
    """Multipart part size for a file: 8 MiB, or more for big files so one takes about 10 parts.

    Each part is one request (UploadPart, or a ranged GET on download); with one part per thread
    a big file costs ~10x fewer requests than with 8 MiB parts and still keeps every thread busy.
    """
    per_part = -(-size // TARGET_PARTS)
    return min(MAX_PART, max(MULTIPART_THRESHOLD, -(-per_part // 2**20) * 2**20))


def _transfer_config(threshold: int, chunk: int, concurrency: int) -> Any:
    """boto3's TransferConfig, always the classic (Python) transfer client, whose behaviour we test."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=threshold, multipart_chunksize=chunk, max_concurrency=concurrency,
                          preferred_transfer_client="classic")


def upload_fileobj(client: S3Client, fileobj: IO[bytes], bucket: str, key: str, *, size: int = 0,
                   extra: dict[str, Any] | None = None, callback: Callable[[int], None] | None = None) -> None:
    """Upload a binary file object with boto3's managed transfer (aborts failed multipart uploads)."""
    params = {"Bucket": bucket, "Key": key}
    with client.mapped_errors("put_object", params):
        client.boto.upload_fileobj(fileobj, bucket, key, ExtraArgs=extra or None, Callback=callback,
                                   Config=_transfer_config(MULTIPART_THRESHOLD, part_size(size), 10))


class _Subscriber:
    """s3transfer subscriber: provides the known size and ETag (so no HeadObject) and forwards progress."""

    def __init__(self, size: int | None, on_progress: Callable[[int], None] | None, etag: str | None = None):
        self._size, self._on_progress, self._etag = size, on_progress, etag

    def on_queued(self, future: Any, **_: Any) -> None:
        if self._size is not None:
            future.meta.provide_transfer_size(self._size)
        if self._etag is not None:
            future.meta.provide_object_etag(self._etag)

    def on_progress(self, future: Any, bytes_transferred: int, **_: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(bytes_transferred)

    def on_done(self, future: Any, **_: Any) -> None:
        pass


class _SourceBody:
    """The body of a source object, opened on first read (in s3transfer's thread, not at submit).

    Reads carry If-Match with the listed ETag, so a source replaced mid-copy fails the copy instead
    of mixing two versions.
    """

    def __init__(self, client: S3Client, bucket: str, key: str, etag: str | None):
        self._client, self._params = client, {"Bucket": bucket, "Key": key, **({"IfMatch": etag} if etag else {})}
        self._stream: Any = None

    def read(self, amount: int = -1) -> bytes:
        if self._stream is None:
            _, self._stream = self._client.get_stream(**self._params)
        data = self._stream.read(None if amount is None or amount < 0 else amount)
        if not data:
            self.close()
        return data

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


class TransferBatch:
    """Many managed transfers sharing s3transfer managers, so concurrency is bounded overall.

    Uploads and downloads go multipart above 8 MiB with parallel parts; copies are server-side
    within one client and streamed between two.  Failed multipart uploads are aborted and failed
    downloads leave no file (s3transfer writes to a temporary name, then renames).
    """

    def __init__(self, concurrency: int | None = None, multipart_threshold: int = MULTIPART_THRESHOLD,
                 largest: int = 0):
        self._concurrency = concurrency
        self._threshold = multipart_threshold
        self._managers: dict[tuple[str, S3Client], Any] = {}
        self._lock = threading.Lock()
        self.expect(largest)

    def expect(self, largest: int) -> None:
        """Size the transfers for files up to ``largest`` bytes; once the first one is submitted,
        the sizes stay (a tree listed page by page is sized by its first page)."""
        with self._lock:
            if not self._managers:
                self._small = largest < self._threshold  # no multipart: every file is one request
                self._chunk = part_size(largest)

    def _manager(self, kind: str, client: S3Client) -> Any:
        from boto3.s3.transfer import create_transfer_manager

        with self._lock:
            if (kind, client) not in self._managers:
                threshold = COPY_THRESHOLD if kind == "copy" else self._threshold
                chunk = 256 * 2**20 if kind == "copy" else self._chunk
                config = _transfer_config(threshold, chunk, self._concurrency_for(client))
                self._managers[kind, client] = create_transfer_manager(client.boto, config)
                redact_library_logs()  # s3transfer's loggers exist only now
            return self._managers[kind, client]

    def _concurrency_for(self, client: S3Client) -> int:
        """Requests in flight: many for small files (latency decides), fewer for multipart ones."""
        if self._concurrency is not None:
            return self._concurrency
        settings = client.settings
        return settings.small_file_concurrency if self._small else settings.max_concurrency

    def upload(self, filename: str, bucket: str, key: str, size: int, *, content_type: str | None = None,
               on_progress: Callable[[int], None] | None = None) -> Any:
        extra = {"ContentType": content_type} if content_type else None
        return self._manager("io", client_for(bucket)).upload(filename, bucket, key, extra_args=extra,
                                                              subscribers=[_Subscriber(size, on_progress)])

    def download(self, bucket: str, key: str, filename: str, size: int | None, *, etag: str | None = None,
                 on_progress: Callable[[int], None] | None = None) -> Any:
        subscriber = _Subscriber(size, on_progress, etag)
        return self._manager("io", client_for(bucket)).download(bucket, key, filename, subscribers=[subscriber])

    def copy(self, source: tuple[str, str], bucket: str, key: str, size: int | None, *, etag: str | None = None,
             content_type: str | None = None, on_progress: Callable[[int], None] | None = None) -> Any:
        source_client, target_client = client_for(source[0]), client_for(bucket)
        if source_client is target_client:
            copy_source = {"Bucket": source[0], "Key": source[1]}
            subscriber = _Subscriber(size, on_progress, etag)
            return self._manager("copy", target_client).copy(copy_source, bucket, key, subscribers=[subscriber])
        body = _SourceBody(source_client, source[0], source[1], etag)
        extra = {"ContentType": content_type} if content_type else None
        return self._manager("io", target_client).upload(body, bucket, key, extra_args=extra,
                                                         subscribers=[_Subscriber(size, on_progress)])

    @staticmethod
    def result(future: Any, operation: str, location: tuple[str, str]) -> None:
        """Wait for one transfer; S3 failures are raised as :mod:`errors` exceptions."""
        from concurrent.futures import CancelledError

        from s3transfer.exceptions import RetriesExceededError

        client = client_for(location[0])
        params = {"Bucket": location[0], "Key": location[1]}
        try:
            with client.mapped_errors(operation, params):
                future.result()
        except CancelledError:  # stopped in flight by a cancel: it landed whole or not at all
            raise errors.Cancelled("cancelled in flight: it landed whole or not at all") from None
        except RetriesExceededError as exc:
            raise client.translate(exc.last_exception or exc, operation, params) from None
        except (OSError, KeyboardInterrupt):
            raise
        except Exception as exc:  # s3transfer's own failures (cancellation, fatal errors)
            raise client.translate(exc, operation, params) from None

    def close(self, cancel: bool = False) -> None:
        """Finish (or with ``cancel``, abort) every transfer still running.

        Cancelling goes through the manager's context-manager exit: ``TransferManager.shutdown(
        cancel=True)`` passes its arguments shifted (s3transfer 0.1x) and fails.
        """
        interrupt = KeyboardInterrupt("cancelled by the user")
        for manager in list(self._managers.values()):
            if cancel:
                manager.__exit__(KeyboardInterrupt, interrupt, None)
            else:
                manager.__exit__(None, None, None)

    def __enter__(self) -> TransferBatch:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.close(cancel=exc_type is not None)
