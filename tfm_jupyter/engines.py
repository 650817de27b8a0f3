"""Bulk work on a Dask cluster: ``engine=client`` for copy, move, sync, find and grep.

The process that holds the :class:`dask.distributed.Client` plans the work as it would alone (the
listing, the comparison of a sync, the overlap rule, the names refused), then sends the files in
batches to the workers and merges what they report into the same results, reports and errors.
Only URIs, sizes and patterns travel in the task graph.  The workers rebuild their clients from this
process's configuration (``configure_s3``, ``configure_storage``), which reaches them through a
worker plugin, secrets included, so a worker whose environment has no credentials still works; a
secret is never a task's argument.

A batch is idempotent (a copy replaces its target whole, a read changes nothing), so a worker that
dies has its batches run again on another; a move deletes its sources here, only after every batch
reported every file arrived.  A cancel (KeyboardInterrupt, or the ``cancel`` event) cancels the
futures.  Afterwards this process forgets what its cache knew below the target: the workers wrote
there, and a listing made before is no longer the truth.
"""

from __future__ import annotations

import builtins
import contextlib
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from distributed import Event, WorkerPlugin

from . import errors
from .backends import configuration_snapshot, restore_configuration
from .path import Path
from .transfer_plan import FileJob, TransferPlan

__all__ = ["BATCH_BYTES", "BATCH_FILES", "Configuration", "copy_batch", "copy_on", "scan_batch", "scan_on"]

BATCH_FILES = 250
BATCH_BYTES = 512 * 2**20
PLUGIN_NAME = "tfm_jupyter-configuration"
_HALTED = object()
stops_seen = 0  # batches this worker process stopped on a cancel (what a test waits for)
_stops_lock = threading.Lock()


class Configuration(WorkerPlugin):
    """Gives each worker this process's storage configuration (credentials included) on start."""

    def __init__(self) -> None:
        self.snapshot = configuration_snapshot()

    def setup(self, worker: Any) -> None:
        restore_configuration(self.snapshot)

    def __repr__(self) -> str:  # never the settings: they hold secrets
        return "<tfm_jupyter storage configuration>"


def prepare(client: Any) -> None:
    """Send the current configuration to every worker (and to workers that join later)."""
    client.register_plugin(Configuration(), name=PLUGIN_NAME)


# -- copies ---------------------------------------------------------------------------------------------


def copy_on(client: Any, plan: TransferPlan, progress: Any, cancel: threading.Event | None
            ) -> dict[str, BaseException]:
    """Carry out ``plan``'s copies on the cluster; returns the sources that failed, with their errors."""
    from . import transfer
    from .transfer_progress import TransferProgress

    failures = transfer.copy_files(TransferPlan(plan.source, plan.target, directories=plan.directories,
                                                refused=plan.refused), progress=False)
    jobs = [(str(job.source), str(job.target), job.size, job.etag) for job in plan.files]
    reporter = TransferProgress(progress, plan.total_bytes, len(jobs), f"copy to {plan.target} on Dask")
    try:
        prepare(client)
        for batch, failed in run_batches(client, copy_batch, _batches(jobs, lambda job: job[2]), cancel):
            reporter.add_bytes(sum(job[2] for job in batch if job[0] not in failed))
            for _ in batch:
                reporter.file_done()
            failures.update({source: _rebuilt(*error) for source, error in failed.items()})
    finally:
        reporter.close()
        plan.target.backend.forget(plan.target)
    return failures


def copy_batch(jobs: list[tuple[str, str, int, str | None]], stop: str | None = None
               ) -> dict[str, tuple[str, str]]:
    """On a worker: copy each ``(source, target, size, etag)``; the failures as ``{source: (type, message)}``.
    Setting the Dask event named ``stop`` cancels the batch like a cancel on one machine."""
    from . import transfer

    plan = TransferPlan(Path(jobs[0][0]), Path(jobs[0][1]),
                        files=[FileJob(Path(source), Path(target), size, etag) for source, target, size, etag in jobs])
    try:
        with _stopped_by(stop) as cancel:
            failed: dict[str, BaseException] = transfer.copy_files(plan, progress=False, cancel=cancel)
    except errors.Cancelled:
        raise
    except Exception as exc:  # the batch as a whole could not run (no credentials, no endpoint): each file failed
        failed = {source: exc for source, *_ in jobs}
    return {source: (errors.builtin_name(error), str(error)) for source, error in failed.items()}


# -- reading ------------------------------------------------------------------------------------------


def scan_on(client: Any, files: list[tuple[Any, int]], pattern: Any, first_only: bool,
            cancel: threading.Event | None, progress: Callable[[int, int], None] | None
            ) -> Iterator[list[tuple[Any, int, str]]]:
    """Each file's matching lines ``(path, line number, line)``, read on the cluster, as batches finish."""
    paths = {str(path): path for path, _ in files}
    done = 0
    prepare(client)
    work = [(str(path), size) for path, size in files]
    for batch, found in run_batches(client, _Scan(pattern, first_only), _batches(work, lambda item: item[1]),
                                    cancel):
        done += len(batch)
        if progress is not None:
            progress(done, len(files))
        for uri, lines in found:
            yield [(paths[uri], number, line) for number, line in lines]


class _Scan:
    """A batch of reads as a task: the pattern travels with it (a compiled pattern pickles)."""

    def __init__(self, pattern: Any, first_only: bool):
        self.pattern, self.first_only = pattern, first_only

    def __call__(self, files: list[tuple[str, int]], stop: str | None = None
                 ) -> list[tuple[str, list[tuple[int, str]]]]:
        with _stopped_by(stop) as cancel:
            return scan_batch(files, self.pattern, self.first_only, cancel)


def scan_batch(files: list[tuple[str, int]], pattern: Any, first_only: bool, cancel: threading.Event | None = None
               ) -> list[tuple[str, list[tuple[int, str]]]]:
    """On a worker: the matching lines of each ``(uri, size)`` that has any (until ``cancel`` is set)."""
    from .search import matching_lines

    found = []
    for uri, size in files:
        if cancel is not None and cancel.is_set():
            break
        try:
            lines = matching_lines(Path(uri), size, pattern, first_only)
        except (OSError, ValueError):
            continue  # unreadable (deleted meanwhile, access denied): not a match
        if lines:
            found.append((uri, [(match.line_number, match.line) for match in lines]))
    return found


# -- batches on the cluster -------------------------------------------------------------------------------


def _batches(items: list[Any], size_of: Callable[[Any], int]) -> list[list[Any]]:
    """Consecutive runs of at most BATCH_FILES items and (unless one item is bigger) BATCH_BYTES bytes."""
    batches: list[list[Any]] = []
    current: list[Any] = []
    weight = 0
    for item in items:
        if current and (len(current) >= BATCH_FILES or weight + size_of(item) > BATCH_BYTES):
            batches.append(current)
            current, weight = [], 0
        current.append(item)
        weight += size_of(item)
    return [*batches, current] if current else batches


def run_batches(client: Any, task: Callable[..., Any], batches: Iterable[list[Any]],
                cancel: threading.Event | None) -> Iterator[tuple[list[Any], Any]]:
    """``(batch, task(batch, stop))`` as each finishes on the cluster.  A cancel (the ``cancel`` event,
    KeyboardInterrupt) or an error cancels the futures not started and sets the Dask event ``stop``
    names, which the running batches check as a cancel on one machine would be checked."""
    stop = Event(f"tfm-cancel-{uuid.uuid4().hex}", client=client)
    submitted = {client.submit(task, batch, stop.name, pure=False): batch for batch in batches}
    finished: queue.Queue[Any] = queue.Queue()  # futures as they finish, or _HALTED

    def halt() -> None:
        stop.set()
        client.cancel(list(submitted))
        finished.put(_HALTED)  # a running future that is cancelled never says it finished

    for future in submitted:
        future.add_done_callback(finished.put)
    watcher = _watch(cancel, halt) if cancel is not None else None
    try:
        for _ in range(len(submitted)):
            future = finished.get()
            if future is _HALTED or (cancel is not None and cancel.is_set()):
                raise errors.Cancelled("cancelled: the batches running on the cluster were stopped, the rest "
                                       "never started; each file landed whole or not at all")
            yield submitted[future], future.result()
    except BaseException:
        halt()
        raise
    finally:
        if watcher is not None:
            watcher.set()


def _watch(cancel: threading.Event, halt: Callable[[], None]) -> threading.Event:
    """Call ``halt`` as soon as ``cancel`` is set (while this process waits for the cluster)."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.1):
            if cancel.is_set():
                halt()
                return

    threading.Thread(target=watch, name="tfm-dask-cancel", daemon=True).start()
    return finished


@contextlib.contextmanager
def _stopped_by(name: str | None) -> Iterator[threading.Event]:
    """On a worker: an event set once the Dask event ``name`` is (for the length of the block)."""
    cancel, finished = threading.Event(), threading.Event()
    if name is None:
        yield cancel
        return
    from distributed import get_worker

    shared = Event(name, client=get_worker().client)  # bound here: the watching thread has no task context

    def watch() -> None:
        global stops_seen
        while not finished.is_set():
            if shared.wait(0.2):  # answered by the scheduler as soon as the event is set
                cancel.set()
                with _stops_lock:
                    stops_seen += 1
                return

    threading.Thread(target=watch, name="tfm-dask-stop", daemon=True).start()
    try:
        yield cancel
    finally:
        finished.set()


def _rebuilt(name: str, message: str) -> BaseException:
    """A worker's error as the builtin exception it was (an OSError when it was none)."""
    kind = getattr(builtins, name, None)
    return kind(message) if isinstance(kind, type) and issubclass(kind, Exception) else OSError(message)
