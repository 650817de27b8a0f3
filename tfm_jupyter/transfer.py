"""Copy and move files and directory trees between any two paths: local, S3 and every registered
storage backend, in every direction.

A transfer is planned first (every file, its size and target; every check that can fail early),
then executed: S3 legs by boto3's managed transfers with bounded concurrency, local->local by
copying to a temporary name and renaming, any other pair by streaming from the source backend's
reader into the target backend's all-or-nothing writer.  Nothing is ever lost:

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
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .cancel import cancel_scope
from .path import LocalPath, Path, S3Path
from .storage_path import StoragePath, use_transfers, walk_tree
from .uri import guess_content_type

__all__ = ["FileJob", "TransferPlan", "copy", "copy_into", "execute", "join_below", "move", "move_into", "plan_copy",
           "target_in"]

ProgressCallback = Callable[[int, int, int, int], None]
Selector = Callable[[str], bool]  # relative posix path of a file below the source -> copy it?
Progress = ProgressCallback | bool | None
BAR_MIN_BYTES = 32 * 2**20
BAR_MIN_FILES = 50
STREAM_CHUNK = 2**20


@dataclass
class FileJob:
    """One file to transfer."""

    source: Any
    target: Any
    size: int
    etag: str | None = None


@dataclass
class TransferPlan:
    """Everything a copy will do, computed before anything is changed."""

    source: Any
    target: Any
    files: list[FileJob] = field(default_factory=list)
    directories: list[Any] = field(default_factory=list)  # targets to create (kept even when empty)
    source_markers: list[str] = field(default_factory=list)  # S3 marker keys to delete on a move
    source_dirs: list[Any] = field(default_factory=list)  # directories (not S3 prefixes) to remove on a move
    refused: dict[str, OSError] = field(default_factory=dict)  # sources that cannot go to the target
    select: Selector | None = None
    pending: Iterator[TransferPlan] | None = None  # the rest of a big S3 tree, planned as it is listed

    @property
    def total_bytes(self) -> int:
        return sum(job.size for job in self.files)

    def absorb(self, part: TransferPlan) -> None:
        """Add what a later listing page planned."""
        self.files.extend(part.files)
        self.directories.extend(part.directories)
        self.source_markers.extend(part.source_markers)
        self.refused.update(part.refused)


# -- planning ---------------------------------------------------------------------------------------


def plan_copy(source: Any, target: Any, *, overwrite: bool = True, select: Selector | None = None,
              stream: bool = False) -> TransferPlan:
    """Check and list everything copying ``source`` to ``target`` involves, changing nothing.

    ``select`` filters the files of a directory by their path relative to ``source``.  With
    ``stream``, an S3 tree of more than one listing page (1,000 keys) going to S3 or a local
    folder is planned from its first page, and ``plan.pending`` plans the rest as it is listed
    (on its own thread), so :func:`execute` starts copying before the listing ends.  Not with
    ``overwrite=False``, which checks every target before the first byte moves.
    """
    source, target = Path(source), Path(target)
    plan = TransferPlan(source, target, select=select)
    if stream and overwrite and isinstance(source, S3Path) and source.key and isinstance(target, (S3Path, LocalPath)):
        pages = _s3_store().survey_or_stream(source.bucket, source.key)
        if pages is not None:
            _check_not_inside(source, target)
            if _lands_on_a_file(target, overwrite):
                raise errors.NotADirectory("Not a directory: cannot copy a directory onto a file", str(target), "copy")
            plan.pending = (_plan_page(plan, page) for page in pages)
            return plan
    if isinstance(source, S3Path) and source.key:
        _s3_store().survey(source.bucket, source.key)  # answers is_dir() and lists the tree at once
    if source.is_dir():
        _check_not_inside(source, target)
        if _lands_on_a_file(target, overwrite):
            raise errors.NotADirectory("Not a directory: cannot copy a directory onto a file", str(target), "copy")
        _plan_tree(plan)
    elif source.is_file():
        if _same(source, target):
            raise errors.SameFileError(f"{str(source)!r} and {str(target)!r} are the same file")
        if target.is_dir():
            raise errors.IsADirectory("Is a directory (use copy_into to copy into it)", str(target), "copy")
        stat = source.stat()
        if select is None or select(source.name):
            plan.files.append(FileJob(source, target, stat.st_size, getattr(stat, "etag", None)))
    else:
        raise errors.NotFound("No such file or directory", str(source), "copy")
    if not overwrite:
        _refuse_existing(plan)
    return plan


def _lands_on_a_file(target: Any, overwrite: bool) -> bool:
    """Whether a directory copy would land on a file.

    On S3 that costs a request the copy itself does not need, so it is asked only with
    ``overwrite=False`` (where the same request also lists what already exists below the target);
    otherwise S3 ends up holding the object and the folder side by side, as after ``write_bytes``.
    """
    if isinstance(target, S3Path):
        if overwrite or not target.key:
            return False
        _s3_store().survey(target.bucket, target.key)
    return target.is_file()


def _check_not_inside(source: Any, target: Any) -> None:
    if type(source) is not type(target):
        return
    if _same(source, target) or _resolved(target).is_relative_to(_resolved(source)):
        raise errors.SameFileError(f"cannot copy {str(source)!r} into itself ({str(target)!r})")


def _resolved(path: Any) -> Any:
    return path.resolve() if isinstance(path, LocalPath) else path


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, LocalPath):
        return a.resolve() == b.resolve()
    return a == b


def _plan_tree(plan: TransferPlan) -> None:
    source, target = plan.source, plan.target
    for directory, rel, dirnames, files, marker in _walk_files(source):
        target_dir = join_below(target, rel)
        if target_dir is None:  # e.g. a '..' component on the way down to a local folder
            for name, _, _ in files:
                _refuse(plan, directory / name)
            continue
        keep_dirs = plan.select is None  # a filtered copy creates directories only as files need them
        needs_marker = not isinstance(source, S3Path) and not files and not dirnames
        if keep_dirs and (not isinstance(target, S3Path) or needs_marker):
            plan.directories.append(target_dir)  # S3 needs a marker only where nothing else is
        if not isinstance(source, S3Path) and directory != source:
            plan.source_dirs.append(directory)
        if marker is not None and keep_dirs:
            plan.source_markers.append(directory.dir_prefix)
            if isinstance(target_dir, S3Path) and target_dir.key:  # copied verbatim, content and all
                plan.files.append(FileJob(directory.child(""), target_dir.child(""), marker.size, marker.etag))
        for name, size, etag in files:
            if plan.select is not None and not plan.select("/".join((*rel, name))):
                continue
            target_file = join_below(target_dir, (name,))
            if target_file is None:
                _refuse(plan, directory / name)
            else:
                plan.files.append(FileJob(directory / name, target_file, size, etag))


def _refuse(plan: TransferPlan, source: Any) -> None:
    plan.refused[str(source)] = errors.S3Error(
        "its key has a component that cannot be a local file name ('..', '.', empty, or with a NUL): "
        "writing it would leave the target folder, so it was not downloaded", str(source), "copy")


def _plan_page(plan: TransferPlan, page: Any) -> TransferPlan:
    """What one ListObjectsV2 page of an S3 tree adds to ``plan`` (S3 or local target)."""
    from .s3.entries import info_from_contents

    source, target = plan.source, plan.target
    part = TransferPlan(source, target)
    below = source.dir_prefix
    for item in page.get("Contents", ()):
        relative = item["Key"][len(below):]
        parts = tuple(relative.split("/"))
        is_marker = not parts[-1]
        if plan.select is not None and (is_marker or not plan.select(relative)):
            continue  # a filtered copy creates directories only as files need them
        info, source_key = info_from_contents(item), S3Path.from_key(source.bucket, item["Key"])
        if is_marker:
            part.source_markers.append(item["Key"])
        if isinstance(target, S3Path):
            if target.dir_prefix + relative:  # a bucket root needs no marker
                part.files.append(FileJob(source_key, S3Path.from_key(target.bucket, target.dir_prefix + relative),
                                          info.size, info.etag))
            continue
        local = join_below(target, parts[:-1] if is_marker else parts)
        if local is None:
            _refuse(part, source_key)
        elif is_marker:
            part.directories.append(local)
        else:
            part.files.append(FileJob(source_key, local, info.size, info.etag))
    return part


FileRow = tuple[str, int, "str | None"]  # (name, size, etag)


def _walk_files(source: Any) -> Iterator[tuple[Any, tuple[str, ...], list[str], list[FileRow], Any]]:
    """(directory, its components below ``source``, subdirectory names, [(file name, size, etag)],
    marker info) per directory, top-down, from the source backend's tree listing (one flat listing
    on S3, one ``os.walk`` locally)."""
    tree = source.backend.tree(source)
    for directory, dirnames, filenames in walk_tree(source, tree, True):
        rel = _relative_parts(source, directory)
        listing = tree[rel]
        files = [(n, listing.children[n].size, listing.children[n].etag) for n in filenames]
        yield directory, rel, dirnames, files, listing.marker


def _relative_parts(root: Any, directory: Any) -> tuple[str, ...]:
    return tuple(directory.parts[len(root.parts):])


def join_below(base: Any, parts: tuple[str, ...]) -> Any:
    """``base / parts``, or None where a part cannot (or must not) be a local file name."""
    if isinstance(base, StoragePath):
        return base.child(*parts) if parts else base
    for part in parts:
        if part in ("", ".", "..") or "\0" in part or os.sep in part or (os.altsep and os.altsep in part):
            return None
    return base.joinpath(*parts) if parts else base


def _refuse_existing(plan: TransferPlan) -> None:
    if isinstance(plan.target, S3Path) and plan.target.key and len(plan.files) > 1:
        _s3_store().tree(plan.target.bucket, plan.target.dir_prefix)  # one listing answers every check
    existing = [str(job.target) for job in plan.files if job.target.exists()]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise errors.AlreadyExists(f"File exists (overwrite=False): {shown}; nothing was copied",
                                   existing[0], "copy")


def _s3_store() -> Any:
    from .s3.stores import get_store

    return get_store()


# -- progress -----------------------------------------------------------------------------------------


class _Reporter:
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


# -- execution ---------------------------------------------------------------------------------------


def _execute(plan: TransferPlan, progress: Progress, cancel: threading.Event | None = None
             ) -> dict[str, BaseException]:
    """Run the plan (and whatever ``plan.pending`` adds while it runs); returns the sources that
    failed, with their errors.

    Setting ``cancel`` (from any thread) stops it like KeyboardInterrupt does, raising ``Cancelled``,
    also while the listing is still going on.
    """
    failures: dict[str, BaseException] = dict(plan.refused)
    reporter = _Reporter(progress, plan.total_bytes, len(plan.files), f"copy to {plan.target}",
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


def _later_parts(plan: TransferPlan, failures: dict[str, BaseException], reporter: _Reporter,
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


def _run_one(job: FileJob, failures: dict[str, BaseException], reporter: _Reporter,
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


def _copy_local(job: FileJob, reporter: _Reporter, cancel: threading.Event | None = None) -> None:
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


def _stream_copy(job: FileJob, reporter: _Reporter, cancel: threading.Event | None = None) -> None:
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


def _run_s3_jobs(jobs: list[FileJob], failures: dict[str, BaseException], reporter: _Reporter,
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
                _settle(running, batch, failures, reporter, cancel, finished_only=True)
            _settle(running, batch, failures, reporter, cancel, finished_only=False)
        finally:
            for job, *_ in running:  # failed to arrive, or cancelled
                _record_target(job, arrived=False)


def _settle(running: deque[tuple[FileJob, Any, str, tuple[str, str]]], batch: Any,
            failures: dict[str, BaseException], reporter: _Reporter, cancel: threading.Event | None,
            finished_only: bool) -> None:
    """Collect the transfers at the front of ``running`` (all of them, or those already finished)."""
    while running and (not finished_only or running[0][1].done()):
        job, future, operation, location = running[0]
        _wait(future, cancel)
        arrived = _run_one(job, failures, reporter, functools.partial(batch.result, future, operation, location))
        running.popleft()
        _record_target(job, arrived)


def _submit(batch: Any, job: FileJob, reporter: _Reporter) -> tuple[FileJob, Any, str, tuple[str, str]]:
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
        if arrived:
            _s3_store().record_put(job.target.bucket, job.target.key, None)
        else:
            _s3_store().forget_key(job.target.bucket, job.target.key)


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
    if _same(source, target):
        raise errors.SameFileError(f"{str(source)!r} and {str(target)!r} are the same file")
    if source.is_dir():
        _check_not_inside(source, target)
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
