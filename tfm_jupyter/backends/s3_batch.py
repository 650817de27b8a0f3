"""S3's transfer batches behind the :class:`~tfm_jupyter.backends.batch.Batch` interface, and the S3
cache kept true as each transfer ends.

Files that take one request each (uploads below 8 MiB, downloads below 64 MiB, copies within a
bucket below 5 GiB) go through the data plane (:mod:`tfm_jupyter.s3.plane`, obstore) when it is
installed and not turned off (``configure_s3(data_plane="boto3")``); bigger ones and copies between
buckets or endpoints through boto3's managed transfers (s3transfer).  A target
that arrived is recorded as written; one that failed or was abandoned is only forgotten (S3 may
hold the old object or, after a timeout the server did apply, the new one: only a fresh request can
tell).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from typing import Any

from .. import errors
from ..uri import guess_content_type
from .batch import Batch, FileJob, Progress

__all__ = ["S3Batch"]

_OPERATIONS = {"copy": "copy_object", "upload": "put_object", "download": "get_object"}


class S3Batch(Batch):
    """``copy`` (S3→S3), ``upload`` (local→S3) or ``download`` (S3→local) through one
    :class:`~tfm_jupyter.s3.transfers.TransferBatch`."""

    def __init__(self, kind: str):
        from ..s3.transfers import TransferBatch

        self.kind = kind
        self._transfers = TransferBatch()
        self._planned: list[concurrent.futures.Future[Any]] = []
        self._room: asyncio.Semaphore | None = None  # the plane's requests in flight for this batch
        self._stopped = False  # a cancel: no new request starts; those sent finish, and are counted
        self._planes: dict[str, Any] = {}  # bucket -> its client's plane (or None: s3transfer)
        self._folders: set[str] = set()  # local folders made for downloads

    def expect(self, largest: int) -> None:
        self._transfers.expect(largest)

    def submit(self, job: FileJob, on_progress: Progress) -> Any:
        if self.kind == "download":
            folder = os.path.dirname(os.fspath(job.target)) or "."
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
        plane = self._plane_of(job)
        if plane is not None:
            future = _run(self._limited(lambda: self._plane_work(plane, job, on_progress), plane.client))
            self._planned.append(future)
            return future
        src, dst = job.source, job.target
        if self.kind == "copy":
            return self._transfers.copy((src.bucket, src.key), dst.bucket, dst.key, job.size, etag=job.etag,
                                        content_type=guess_content_type(dst.key), on_progress=on_progress)
        if self.kind == "upload":
            return self._transfers.upload(os.fspath(src), dst.bucket, dst.key, job.size,
                                          content_type=guess_content_type(dst.key), on_progress=on_progress)
        return self._transfers.download(src.bucket, src.key, os.fspath(dst), job.size, etag=job.etag,
                                        on_progress=on_progress)

    # -- the data plane for small files ---------------------------------------------------------------

    def _plane_of(self, job: FileJob) -> Any:
        """The plane of the client this job's request goes to, or None (s3transfer takes it)."""
        from ..s3 import plane
        from ..s3.client import client_for

        s3_ends = {"download": (job.source,), "upload": (job.target,)}.get(self.kind, (job.source, job.target))
        if job.size >= plane.LIMITS[self.kind] or not all(plane.plain_key(end.key) for end in s3_ends):
            return None
        if self.kind == "copy" and job.source.bucket != job.target.bucket:
            return None  # obstore copies within one bucket; across buckets s3transfer's CopyObject does
        bucket = s3_ends[-1].bucket
        if bucket not in self._planes:
            client = client_for(bucket)
            wanted = client.settings.data_plane
            usable = wanted == "obstore" or (wanted == "auto" and plane.available())
            self._planes[bucket] = plane.plane_for(client) if usable else None
        return self._planes[bucket]

    def _plane_work(self, plane: Any, job: FileJob, on_progress: Progress) -> Any:
        src, dst = job.source, job.target
        if self.kind == "download":
            return plane.download(src.bucket, src.key, os.fspath(dst), job.etag, on_progress,
                                  stopped=lambda: self._stopped)
        if self.kind == "upload":
            return plane.upload(os.fspath(src), dst.bucket, dst.key, guess_content_type(dst.key), on_progress)
        return plane.copy(dst.bucket, src.key, dst.key, job.size, on_progress)

    async def _limited(self, work: Any, client: Any) -> Any:
        """``work()`` once one of the batch's places is free (the work is made only then: a task
        cancelled while it waited leaves no coroutine behind)."""
        if self._room is None:
            self._room = asyncio.Semaphore(client.settings.small_file_concurrency)
        async with self._room:
            if self._stopped:
                raise errors.Cancelled("cancelled before it was sent: nothing was written")
            return await work()

    def result(self, job: FileJob, handle: Any) -> None:
        s3_end = job.source if self.kind == "download" else job.target
        if handle in self._planned:
            try:
                handle.result()
            except BaseException:
                self.abandoned(job)
                raise
            if self.kind != "download":
                _store().record_put(job.target.bucket, job.target.key, None)
            return
        try:
            self._transfers.result(handle, _OPERATIONS[self.kind], (s3_end.bucket, s3_end.key))
        except BaseException:
            self.abandoned(job)
            raise
        if self.kind != "download":
            _store().record_put(job.target.bucket, job.target.key, None)

    def abandoned(self, job: FileJob) -> None:
        if self.kind != "download":
            _store().forget_key(job.target.bucket, job.target.key)

    def close(self, cancel: bool = False) -> None:
        """With ``cancel``: the plane sends nothing more and lets what it sent finish (so what landed is
        known); s3transfer cancels its transfers."""
        self._stopped = self._stopped or cancel
        concurrent.futures.wait(self._planned)  # every task ended, its temporary file removed
        self._transfers.close(cancel=cancel)


def _run(work: Any) -> Any:
    from ..s3.plane import run

    return run(work)


def _store() -> Any:
    from ..s3.stores import get_store

    return get_store()
