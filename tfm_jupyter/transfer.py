"""Copy and move files and directory trees between any two paths: local, S3 and every registered
storage backend, in every direction.

A transfer is planned first (:mod:`.transfer_plan`), then executed: each file goes to the batch of
its pair of backends (:mod:`tfm_jupyter.backends.batch`: S3's managed transfers, server-side copies
within one storage, local copies by temporary file and rename, and for any other pair a stream from
the source's reader into the target's all-or-nothing writer), several files in flight at once.  A
big tree is executed while it is still being listed.  Nothing is ever lost:

* a target is only ever replaced by a complete file (writers commit on success only; downloads and
  local copies are written under a temporary name and renamed at the end);
* a move deletes its sources only after every file arrived; if any failed, all sources stay;
* ``overwrite=False`` checks every target before the first byte moves;
* a source and target that overlap so that data could be lost are refused first (the overlap rule).
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import errors
from .backends import Batch, default_batch
from .cancel import cancel_scope
from .path import Path
from .storage_path import use_transfers
from .transfer_plan import (
    FileJob,
    Selector,
    TransferPlan,
    check_overlap,
    overlap,
    plan_copy,
    same_file,
)
from .transfer_progress import Progress, TransferProgress

__all__ = ["FileJob", "TransferPlan", "batch_for", "copy", "copy_files", "copy_into", "execute", "move", "move_into",
           "plan_copy", "target_in", "try_rename"]


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
        _run_jobs(plan.files, failures, reporter, cancel, later)
    except errors.Cancelled as exc:
        in_flight = getattr(exc, "in_flight", 0)
        raise errors.Cancelled(
            f"transfer cancelled: {reporter.files_done:,} of {reporter.total_files:,} files had arrived"
            + (f", {in_flight:,} more {'was' if in_flight == 1 else 'were'} in flight (each landed whole or not "
               "at all)" if in_flight else "") + "; nothing partial was left behind",
            arrived=reporter.files_done, in_flight=in_flight, total=reporter.total_files) from None
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


def _make_directories(directories: list[Any]) -> None:
    for directory in directories:
        directory.backend.make_dirs(directory)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise errors.Cancelled("transfer cancelled: nothing partial was left behind")


def batch_for(source_backend: Any, target_backend: Any, cancel: threading.Event | None = None) -> Batch:
    """The batch that moves files from one backend to another: the target's fast way, else the
    source's, else the generic one (double dispatch)."""
    return (target_backend.batch_from(source_backend) or source_backend.batch_to(target_backend)
            or default_batch(source_backend, target_backend, cancel))


Running = deque[tuple[FileJob, Batch, Any]]


def _run_jobs(jobs: list[FileJob], failures: dict[str, BaseException], reporter: TransferProgress,
              cancel: threading.Event | None = None, later: Iterable[list[FileJob]] = ()) -> None:
    """Submit ``jobs``, then each part ``later`` brings as it comes, and settle each transfer as it
    ends (only the unfinished ones are held)."""
    batches: dict[tuple[int, int], Batch] = {}
    running: Running = deque()
    finished = wound_down = False
    try:
        for part in itertools.chain([jobs], later):
            largest = max((job.size for job in part), default=0)
            for batch in batches.values():
                batch.expect(largest)
            for job in part:
                _check(cancel)
                batch = _batch_of(batches, job, largest, cancel)
                running.append((job, batch, batch.submit(job, reporter.add_bytes)))
                _settle(running, failures, reporter, cancel, finished_only=True)  # progress as they end
        _settle(running, failures, reporter, cancel, finished_only=False)
        finished = True
    except errors.Cancelled as exc:
        exc.in_flight, wound_down = _wind_down(batches, running, failures, reporter), True
        raise
    finally:
        if finished:
            for batch in batches.values():
                batch.close()
        elif not wound_down:
            _wind_down(batches, running, failures, reporter)


def _wind_down(batches: dict[tuple[int, int], Batch], running: Running, failures: dict[str, BaseException],
               reporter: TransferProgress) -> int:
    """After a cancel or an error: stop every batch (nothing new is sent), then count what arrived.
    Returns how many transfers were stopped in flight (each landed whole or not at all)."""
    for batch in batches.values():
        batch.close(cancel=True)
    uncertain = 0
    while running:
        job, batch, handle = running.popleft()
        if not handle.done():
            batch.abandoned(job)
            uncertain += 1
            continue
        try:
            _run_one(job, failures, reporter, functools.partial(batch.result, job, handle))
        except errors.Cancelled:
            uncertain += 1
        except Exception as exc:  # already recorded or not an OSError: the cancel is what is reported
            failures.setdefault(str(job.source), exc)
    return uncertain


def _batch_of(batches: dict[tuple[int, int], Batch], job: FileJob, largest: int,
              cancel: threading.Event | None) -> Batch:
    source, target = job.source.backend, job.target.backend
    key = (id(source), id(target))
    if key not in batches:
        batches[key] = batch_for(source, target, cancel)
        batches[key].expect(largest)
    return batches[key]


def _settle(running: Running, failures: dict[str, BaseException], reporter: TransferProgress,
            cancel: threading.Event | None, finished_only: bool) -> None:
    """Collect the transfers at the front of ``running`` (all of them, or those already finished)."""
    while running and (not finished_only or running[0][2].done()):
        job, batch, handle = running[0]
        _wait(handle, cancel)
        _run_one(job, failures, reporter, functools.partial(batch.result, job, handle))
        running.popleft()


def _run_one(job: FileJob, failures: dict[str, BaseException], reporter: TransferProgress,
             action: Callable[[], None]) -> bool:
    """Settle one file's transfer; False (and the error in ``failures``) if it failed."""
    try:
        action()
    except OSError as exc:
        failures[str(job.source)] = exc
        return False
    reporter.file_done()
    return True


def _wait(handle: Any, cancel: threading.Event | None) -> None:
    """Block until the transfer is done, but give up promptly when ``cancel`` is set."""
    # The cancel is looked at before the handle: once it is set, no transfer still running can win.
    while cancel is not None:
        _check(cancel)
        if handle.done():
            return
        cancel.wait(0.05)


# -- public API ---------------------------------------------------------------------------------------


def copy(source: Any, target: Any, *, overwrite: bool = True, progress: Progress = None,
         select: Selector | None = None, cancel: threading.Event | None = None, engine: Any = None) -> Any:
    """Copy a file or a directory tree to ``target`` (which becomes the copy) and return it.

    Works between any two storages (S3, local, SFTP, FTP, ``memory://``, …): within one S3 client
    server-side (no bytes through this machine).  Existing files at the target are replaced unless
    ``overwrite=False``, which raises ``FileExistsError`` before anything is copied.  ``progress``:
    ``None`` shows a tqdm bar for big transfers, ``False`` nothing, or a callable ``(bytes_done,
    bytes_total, files_done, files_total)``.  ``select(relative_path)`` chooses the files of a
    directory to copy.  Raises :class:`~tfm_jupyter.errors.TransferError` naming the files that
    failed (names that cannot be written below the target among them, never written elsewhere).
    ``engine``: a :class:`dask.distributed.Client` copies the files on its cluster
    (:mod:`tfm_jupyter.engines`).
    """
    with cancel_scope(cancel):  # the listing stops at its next page on a cancel
        return execute(plan_copy(source, target, overwrite=overwrite, select=select, stream=engine is None),
                       progress=progress, cancel=cancel, engine=engine)


def execute(plan: TransferPlan, *, move: bool = False, progress: Progress = None,
            cancel: threading.Event | None = None, engine: Any = None) -> Any:
    """Carry out a plan from :func:`plan_copy`; with ``move``, delete the sources once all arrived;
    with an ``engine`` (a Dask client), the files are copied on its cluster."""
    if engine is None:
        failures = _execute(plan, progress, cancel)
    else:
        from .engines import copy_on

        failures = copy_on(engine, plan, progress, cancel)
    _raise_failures(failures, plan, "move" if move else "copy")
    if move:
        _delete_sources(plan)
    return plan.target


def copy_files(plan: TransferPlan, *, progress: Progress = False, cancel: threading.Event | None = None
               ) -> dict[str, BaseException]:
    """Make the plan's directories and copy its files (never deleting anything); returns the sources
    that failed, with their errors (a Dask worker runs its batches through this)."""
    return _execute(plan, progress, cancel)


def copy_into(source: Any, target_dir: Any, **options: Any) -> Any:
    """Copy ``source`` into the directory ``target_dir`` (keeping its name)."""
    return copy(source, target_in(target_dir, source), **options)


def move(source: Any, target: Any, *, overwrite: bool = True, progress: Progress = None,
         select: Selector | None = None, cancel: threading.Event | None = None, engine: Any = None) -> Any:
    """Move a file or directory tree: copy it, then delete the sources - only if every file arrived.

    Within one storage that renames (a local disk, SFTP, FTP) a rename does it in one step.
    """
    source, target = Path(source), Path(target)
    if select is None and try_rename(source, target, overwrite):
        return target
    with cancel_scope(cancel):
        return execute(plan_copy(source, target, overwrite=overwrite, select=select, stream=engine is None),
                       move=True, progress=progress, cancel=cancel, engine=engine)


def try_rename(source: Any, target: Any, overwrite: bool = True) -> bool:
    """Move ``source`` to ``target`` by one rename where both are on one storage that renames (a
    local disk on one file system, SFTP, FTP); False where the move must copy and delete instead."""
    if source.backend is not target.backend:
        return False
    if same_file(source, target):
        raise errors.SameFileError(f"{str(source)!r} and {str(target)!r} are the same file")
    check_overlap(source, target)
    if overlap(source, target) == "source inside target":
        return False  # the planner checks that no file lands on the source
    return bool(source.backend.rename(source, target, overwrite=overwrite))


def move_into(source: Any, target_dir: Any, **options: Any) -> Any:
    """Move ``source`` into the directory ``target_dir`` (keeping its name)."""
    return move(source, target_in(target_dir, source), **options)


def target_in(directory: Any, source: Any) -> Any:
    """Where ``source`` lands inside ``directory``: its name (a bucket root brings its bucket's name),
    through the target's name gate (:class:`~tfm_jupyter.errors.UnsafeName` for ``..`` and the like)."""
    source, directory = Path(source), Path(directory)
    name = source.name or getattr(source, "authority", "")
    if not name:
        raise ValueError(f"{str(source)!r} has no name to copy into a directory")
    return directory.backend.join_below(directory, (name,))


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
    failed = source.backend.delete_tree([job.source for job in plan.files], plan.source_dirs)
    if failed:
        raise errors.TransferError(
            f"every file was copied, but {len(failed)} sources could not be deleted; they exist "
            "in both places", dict(failed), str(source))


use_transfers(sys.modules[__name__])  # Path.copy/move call this module; path.py never imports it
