"""S3's transfer batches: boto3's managed transfers behind the :class:`~tfm_jupyter.backends.batch.Batch`
interface, and the S3 cache kept true as each one ends.

A target that arrived is recorded as written; one that failed or was abandoned is only forgotten
(S3 may hold the old object or, after a timeout the server did apply, the new one: only a fresh
request can tell).
"""

from __future__ import annotations

import os
from typing import Any

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

    def expect(self, largest: int) -> None:
        self._transfers.expect(largest)

    def submit(self, job: FileJob, on_progress: Progress) -> Any:
        src, dst = job.source, job.target
        if self.kind == "copy":
            return self._transfers.copy((src.bucket, src.key), dst.bucket, dst.key, job.size, etag=job.etag,
                                        content_type=guess_content_type(dst.key), on_progress=on_progress)
        if self.kind == "upload":
            return self._transfers.upload(os.fspath(src), dst.bucket, dst.key, job.size,
                                          content_type=guess_content_type(dst.key), on_progress=on_progress)
        os.makedirs(os.path.dirname(os.fspath(dst)) or ".", exist_ok=True)
        return self._transfers.download(src.bucket, src.key, os.fspath(dst), job.size, etag=job.etag,
                                        on_progress=on_progress)

    def result(self, job: FileJob, handle: Any) -> None:
        s3_end = job.source if self.kind == "download" else job.target
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
        self._transfers.close(cancel=cancel)


def _store() -> Any:
    from ..s3.stores import get_store

    return get_store()
