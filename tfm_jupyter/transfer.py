"""Copy and move files and directory trees between any two paths: local, S3 and every registered
storage backend, in every direction.

A transfer is planned first (:mod:`.transfer_plan`), then executed: S3 legs by boto3's managed
transfers with bounded concurrency, local->local by copying to a temporary name and renaming, any
other pair by streaming from the source backend's reader into the target backend's all-or-nothing
writer.  A big S3 tree is executed while it is still being listed.  Nothing is ever lost:

* a target is only ever replaced by a complete file (S3 uploads are atomic, downloads and local
  copies are written under a temporary name and renamed at the end);
* a move deletes its sources only after every file arrived; if any failed, all sources stay;
* ``overwrite=False`` checks every target before the first byte moves.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import shutil
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import errors
from .cancel import cancel_scope
from .path import LocalPath, Path, S3Path
from .storage_path import StoragePath, use_transfers
from .transfer_plan import FileJob, Selector, TransferPlan, check_not_inside, join_below, plan_copy, same_file
from .transfer_progress import Progress, TransferProgress
from .uri import guess_content_type

__all__ = ["FileJob", "TransferPlan", "copy", "copy_into", "execute", "join_below", "move", "move_into", "plan_copy",
           "target_in"]

STREAM_CHUNK = 2**20


# -- execution ---------------------------------------------------------------------------------------


def _execute(plan: TransferPlan, progress: Progress, cancel: threading.Event | None = None
             ) -> dict[str, BaseException]:
    """Run the plan (and whatever ``plan.pending`` adds while it runs); returns the sources that
    failed, with their errors.

    Setting ``cancel`` (from any thread) stops it like KeyboardInterrupt does, raising ``Cancelled``,
    also while the listing is still going on.
    """
    failures: dict[str, BaseException] = dict(plan.refused)
    reporter = TransferProgress(progress, plan.total_bytes, len(plan.files), f"copy to {plan.target}",
                         listing=plan.pending is not None)
    later = _later_parts(plan, failures, reporter, cancel)
    try:
        _make_directories(plan.directories)
        legs: dict[str, list[FileJob]] = {"local": [], "s3": [], "stream": []}
        for job in plan.files:
            legs[_leg(job)].append(job)
        for job in legs["local"]:
            _run_one(job, failures, reporter, functools.partial(_copy_local, job, reporter, cancel))
        for job in legs["stream"]:
            _run_one(job, failures, reporter, functools.partial(_stream_copy, job, reporter, cancel))
        if legs["s3"] or plan.pending is not None:  # a pending S3 tree goes to S3 or local: all "s3" legs
            _run_s3_jobs(legs["s3"], failures, reporter, cancel, later)
    finally:
        later.close()
        reporter.close()
    return failures


def _later_parts(plan: TransferPlan, failures: dict[str, BaseException], reporter: TransferProgress,
                 cancel: threading.Event | None) -> Iterator[list[FileJob]]:
    """The files of each page ``plan.pending`` plans, listed ahead on their own thread."""
    if plan.pending is None:
        return
    from .prefetch import Prefetch

    parts = Prefetch(plan.pending, check=functools.partial(_check, cancel))
    try:
        for part in parts:
            plan.absorb(part)
            failures.update(part.refused)
            _make_directories(part.directories)
            reporter.planned(part.total_bytes, len(part.files))
            yield part.files
        reporter.listed()
    finally:
        parts.close()


def _run_one(job: FileJob, failures: dict[str, BaseException], reporter: TransferProgress,
             action: Callable[[], None]) -> bool:
    """Run one file's transfer; False (and the error in ``failures``) if it failed."""
    try:
        action()
    except OSError as exc:
        failures[str(job.source)] = exc
        return False
    reporter.file_done()
    return True


def _leg(job: FileJob) -> str:
    """How a file travels: "local" (local->local), "s3" (boto3's managed transfers: S3<->S3 server-side
    or across endpoints, S3<->local), or "stream" (any other backend: reader -> atomic writer)."""
    ends = (job.source, job.target)
    if all(isinstance(end, LocalPath) for end in ends):
        return "local"
    if all(isinstance(end, (LocalPath, S3Path)) for end in ends):
        return "s3"
    return "stream"


def _make_directories(directories: list[Any]) -> None:
    for directory in directories:
        if isinstance(directory, S3Path):
            if directory.key:  # a bucket root needs no marker; a marker needs no existence check
                directory.backend.make_dir(directory)
        elif isinstance(directory, LocalPath):
            os.makedirs(directory, exist_ok=True)
        else:
            directory.mkdir(parents=True, exist_ok=True)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise errors.Cancelled("transfer cancelled: nothing partial was left behind")


def _copy_local(job: FileJob, reporter: TransferProgress, cancel: threading.Event | None = None) -> None:
    target = os.fspath(job.target)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(target) or ".", prefix=f".{os.path.basename(target)}.",
                                suffix=".part")
    try:
        with open(job.source, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(2**20):
                _check(cancel)
                dst.write(chunk)
                reporter.add_bytes(len(chunk))
        shutil.copymode(job.source, temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _stream_copy(job: FileJob, reporter: TransferProgress, cancel: threading.Event | None = None) -> None:
    """Source backend's reader -> target backend's writer; a failure or cancel commits nothing."""
    with job.source.backend.open_read(job.source) as src, job.target.backend.open_write(job.target) as dst:
        while chunk := src.read(STREAM_CHUNK):
            _check(cancel)
            dst.write(chunk)
            reporter.add_bytes(len(chunk))


def _wait(future: Any, cancel: threading.Event | None) -> None:
    """Block until the transfer is done, but give up promptly when ``cancel`` is set."""
    # The cancel is looked at before the future: once it is set, no transfer still running can win.
    while cancel is not None:
        _check(cancel)
        if future.done():
            return
        cancel.wait(0.05)


def _run_s3_jobs(jobs: list[FileJob], failures: dict[str, BaseException], reporter: TransferProgress,
                 cancel: threading.Event | None = None, later: Iterable[list[FileJob]] = ()) -> None:
    """Submit ``jobs``, then each part ``later`` brings as it comes, and settle each transfer as it
    ends (only the unfinished ones are held)."""
    from .s3.transfers import TransferBatch

    running: deque[tuple[FileJob, Any, str, tuple[str, str]]] = deque()
    with TransferBatch(largest=max((job.size for job in jobs), default=0)) as batch:
        try:
            for part in itertools.chain([jobs], later):
                batch.expect(max((job.size for job in part), default=0))
                for job in part:
                    _check(cancel)
                    running.append(_submit(batch, job, reporter))
                    _settle(running, batch, failures, reporter, cancel, finished_only=True)  # progress as they end
            _settle(running, batch, failures, reporter, cancel, finished_only=False)
        finally:
            for job, *_ in running:  # failed to arrive, or cancelled
                _record_target(job, arrived=False)


def _settle(running: deque[tuple[FileJob, Any, str, tuple[str, str]]], batch: Any,
            failures: dict[str, BaseException], reporter: TransferProgress, cancel: threading.Event | None,
            finished_only: bool) -> None:
    """Collect the transfers at the front of ``running`` (all of them, or those already finished)."""
    while running and (not finished_only or running[0][1].done()):
        job, future, operation, location = running[0]
        _wait(future, cancel)
        arrived = _run_one(job, failures, reporter, functools.partial(batch.result, future, operation, location))
        running.popleft()
        _record_target(job, arrived)


def _submit(batch: Any, job: FileJob, reporter: TransferProgress) -> tuple[FileJob, Any, str, tuple[str, str]]:
    src, dst = job.source, job.target
    if isinstance(dst, S3Path) and isinstance(src, S3Path):
        future = batch.copy((src.bucket, src.key), dst.bucket, dst.key, job.size, etag=job.etag,
                            content_type=guess_content_type(dst.key), on_progress=reporter.add_bytes)
        return job, future, "copy_object", (dst.bucket, dst.key)
    if isinstance(dst, S3Path):
        future = batch.upload(os.fspath(src), dst.bucket, dst.key, job.size,
                              content_type=guess_content_type(dst.key), on_progress=reporter.add_bytes)
        return job, future, "put_object", (dst.bucket, dst.key)
    os.makedirs(os.path.dirname(os.fspath(dst)) or ".", exist_ok=True)
    future = batch.download(src.bucket, src.key, os.fspath(dst), job.size, etag=job.etag,
                            on_progress=reporter.add_bytes)
    return job, future, "get_object", (src.bucket, src.key)


def _record_target(job: FileJob, arrived: bool) -> None:
    """Only a target that arrived is recorded as written; a failed or cancelled one is only forgotten."""
    if isinstance(job.target, S3Path):
        from .s3.stores import get_store

        if arrived:
            get_store().record_put(job.target.bucket, job.target.key, None)
        else:
            get_store().forget_key(job.target.bucket, job.target.key)


# -- public API ---------------------------------------------------------------------------------------


def copy(source: Any, target: Any, *, overwrite: bool = True, progress: Progress = None,
         select: Selector | None = None, cancel: threading.Event | None = None) -> Any:
    """Copy a file or a directory tree to ``target`` (which becomes the copy) and return it.

    Works local->S3, S3->local, S3->S3 (server-side, no bytes through this machine) and
    local->local.  Existing files at the target are replaced unless ``overwrite=False``, which
    raises ``FileExistsError`` before anything is copied.  ``progress``: ``None`` shows a tqdm bar
    for big transfers, ``False`` nothing, or a callable ``(bytes_done, bytes_total, files_done,
    files_total)``.  ``select(relative_path)`` chooses the files of a directory to copy.
    Raises :class:`~tfm_jupyter.errors.TransferError` naming the files that failed.
    """
    with cancel_scope(cancel):  # the listing stops at its next page on a cancel
        return execute(plan_copy(source, target, overwrite=overwrite, select=select, stream=True),
                       progress=progress, cancel=cancel)


def execute(plan: TransferPlan, *, move: bool = False, progress: Progress = None,
            cancel: threading.Event | None = None) -> Any:
    """Carry out a plan from :func:`plan_copy`; with ``move``, delete the sources once all arrived."""
    failures = _execute(plan, progress, cancel)
    _raise_failures(failures, plan, "move" if move else "copy")
    if move:
        _delete_sources(plan)
    return plan.target


def copy_into(source: Any, target_dir: Any, **options: Any) -> Any:
    """Copy ``source`` into the directory ``target_dir`` (keeping its name)."""
    return copy(source, target_in(target_dir, source), **options)


def move(source: Any, target: Any, *, overwrite: bool = True, progress: Progress = None,
         select: Selector | None = None, cancel: threading.Event | None = None) -> Any:
    """Move a file or directory tree: copy it, then delete the sources - only if every file arrived."""
    source, target = Path(source), Path(target)
    if (select is None and isinstance(source, LocalPath) and isinstance(target, LocalPath)
            and _rename_local(source, target, overwrite)):
        return target
    with cancel_scope(cancel):
        return execute(plan_copy(source, target, overwrite=overwrite, select=select, stream=True), move=True,
                       progress=progress, cancel=cancel)


def move_into(source: Any, target_dir: Any, **options: Any) -> Any:
    """Move ``source`` into the directory ``target_dir`` (keeping its name)."""
    return move(source, target_in(target_dir, source), **options)


def target_in(directory: Any, source: Any) -> Any:
    """Where ``source`` lands inside ``directory``: its name (a bucket root brings its bucket's name)."""
    source = Path(source)
    name = source.name or (source.authority if isinstance(source, StoragePath) else "")
    if not name:
        raise ValueError(f"{str(source)!r} has no name to copy into a directory")
    return Path(directory) / name


def _rename_local(source: LocalPath, target: LocalPath, overwrite: bool) -> bool:
    """Try a plain rename (same filesystem); False means "copy and delete instead"."""
    if not source.exists() and not source.is_symlink():
        raise errors.NotFound("No such file or directory", str(source), "move")
    if same_file(source, target):
        raise errors.SameFileError(f"{str(source)!r} and {str(target)!r} are the same file")
    if source.is_dir():
        check_not_inside(source, target)
    if target.exists() and (not overwrite or target.is_dir() != source.is_dir()):
        if not overwrite:
            raise errors.AlreadyExists("File exists (overwrite=False)", str(target), "move")
        return False
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    return True


def _raise_failures(failures: dict[str, BaseException], plan: TransferPlan, verb: str) -> None:
    if not failures:
        return
    first_source, first_error = next(iter(failures.items()))
    kept = " Every source is still in place." if verb == "move" else ""
    raise errors.TransferError(
        f"{verb} of {len(failures)} of {len(plan.files) + len(plan.refused)} files failed "
        f"(first: {first_source}: {first_error}).{kept} See .failures for each file.",
        failures, str(plan.source))


def _delete_sources(plan: TransferPlan) -> None:
    source = plan.source
    paths = [job.source for job in plan.files]
    if isinstance(source, S3Path):
        paths += [S3Path.from_key(source.bucket, marker) for marker in plan.source_markers]
    failed = source.backend.delete_many(paths)  # on S3: DeleteObjects, 1,000 keys a request
    if failed:
        raise errors.TransferError(
            f"every file was copied, but {len(failed)} sources could not be deleted; they exist "
            "in both places", dict(failed), str(source))
    if isinstance(source, S3Path):
        return  # a prefix with no keys left is gone
    for directory in [*sorted(plan.source_dirs, key=lambda d: len(d.parts), reverse=True), source]:
        with contextlib.suppress(OSError):  # a directory that still holds unselected files stays
            if directory.is_dir():
                directory.backend.remove_dir(directory)


use_transfers(sys.modules[__name__])  # Path.copy/move call this module; path.py never imports it
