"""Transfer batches: how files travel between two backends, several at once.

The transfer engine hands each file (a :class:`FileJob`) to the batch of its pair of backends and
settles the results as they end.  Which batch serves a pair is double dispatch, as pathlib-abc's
``target._copy_from(source)`` and fsspec's ``GenericFileSystem`` do it: the target backend is asked
first (:meth:`~tfm_jupyter.backends.Backend.batch_from`), then the source
(:meth:`~tfm_jupyter.backends.Backend.batch_to`), and when neither has a faster way,
:func:`default_batch` serves every pair: within one backend its ``copy_within`` (server-side where
the storage can), between two a stream from the source's reader into the target's all-or-nothing
writer, on a bounded thread pool either way.  A failure or a cancel never leaves a partial target.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

from .. import errors
from ..cancel import Either

__all__ = ["STREAM_CHUNK", "Batch", "FileJob", "Progress", "ThreadBatch", "default_batch", "stream_file"]

STREAM_CHUNK = 2**20
Progress = Callable[[int], None]  # bytes moved since the last call


@dataclass
class FileJob:
    """One file to transfer: its source and target paths, size and (where known) ETag."""

    source: Any
    target: Any
    size: int
    etag: str | None = None


class Batch(ABC):
    """Files in flight between two backends (``submit`` returns a handle with ``done()``)."""

    def expect(self, largest: int) -> None:
        """A hint: files of up to ``largest`` bytes are coming (multipart sizing)."""
        return None

    @abstractmethod
    def submit(self, job: FileJob, on_progress: Progress) -> Any:
        """Start ``job``; returns a handle whose ``done()`` says it ended."""

    @abstractmethod
    def result(self, job: FileJob, handle: Any) -> None:
        """Wait for ``job``; raise its failure as a :mod:`tfm_jupyter.errors` ``OSError``.  The target
        backend's cache then holds what arrived."""

    def abandoned(self, job: FileJob) -> None:
        """``job`` was submitted but will never be settled (the transfer was cancelled or failed
        elsewhere): the target backend forgets what it may have touched."""
        return None

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Finish (``cancel``: stop) every transfer still running; nothing partial stays behind."""


def _stop_check(stop: Any) -> None:
    if stop.is_set():
        raise errors.Cancelled("transfer cancelled: no partial file was left behind")


def stream_file(source_backend: Any, target_backend: Any, job: FileJob, on_progress: Progress, stop: Any) -> None:
    """The source backend's reader into the target backend's writer; a failure or stop commits nothing."""
    with source_backend.open_read(job.source) as src, target_backend.open_write(job.target) as dst:
        while chunk := src.read(STREAM_CHUNK):
            _stop_check(stop)
            dst.write(chunk)
            on_progress(len(chunk))


class ThreadBatch(Batch):
    """``action(job, on_progress, stop)`` for each file on a bounded thread pool; ``stop`` is set by
    the caller's ``cancel`` or by closing the batch with ``cancel=True``."""

    def __init__(self, action: Callable[[FileJob, Progress, Any], None], workers: int,
                 cancel: threading.Event | None = None):
        self._action = action
        from concurrent.futures import ThreadPoolExecutor  # not at import time: `import tfm_jupyter` stays light

        self._stop = threading.Event()
        self._either = Either(self._stop, cancel)
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="tfm-transfer")

    def submit(self, job: FileJob, on_progress: Progress) -> Future[None]:
        return self._pool.submit(self._action, job, on_progress, self._either)

    def result(self, job: FileJob, handle: Future[None]) -> None:
        handle.result()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self._stop.set()  # running streams stop at their next chunk and commit nothing
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def default_batch(source_backend: Any, target_backend: Any, cancel: threading.Event | None = None) -> Batch:
    """The generic batch of a pair: ``copy_within`` inside one backend, else a stream."""
    if source_backend is target_backend:
        return ThreadBatch(source_backend.copy_within, source_backend.concurrency, cancel)

    def stream(job: FileJob, on_progress: Progress, stop: Any) -> None:
        stream_file(source_backend, target_backend, job, on_progress, stop)

    return ThreadBatch(stream, min(source_backend.concurrency, target_backend.concurrency), cancel)
