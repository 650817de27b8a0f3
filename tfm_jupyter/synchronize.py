"""``sync(source, target)``: make a folder or prefix hold what another holds, like ``aws s3 sync``.

Both sides are listed afresh (one flat listing per S3 side: ceil(N/1000) requests, never a request
per file), compared file by file, and only what is new or changed is copied, through
:mod:`tfm_jupyter.transfer` (server-side on one S3 endpoint, managed transfers, nothing partial).
Deleting target files that the source lacks (``delete=True``) happens only after every copy
succeeded; a failed sync deletes nothing and raises :class:`~tfm_jupyter.errors.SyncError`, whose
``report`` says what was copied and what failed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from . import errors, meter, transfer
from .cancel import cancel_scope
from .checksum import etag_matches, md5_etag
from .entries import ObjectInfo
from .path import Path
from .sync_report import SyncItem, SyncReport
from .transfer_plan import inside, overlap
from .units import make_filter

__all__ = ["Comparison", "SyncReport", "compare", "compare_files", "list_files", "seconds", "sync"]

Files = dict[tuple[str, ...], ObjectInfo]


def sync(source: Any, target: Any, *, delete: bool = False, dryrun: bool = False, size_only: bool = False,
         exact_timestamps: bool = False, checksum: bool = False, exclude: Iterable[str] = (),
         include: Iterable[str] = (), progress: Any = None, filters: Iterable[tuple[str, str]] | None = None,
         cancel: threading.Event | None = None, engine: Any = None) -> SyncReport:
    """Copy to ``target`` every file of ``source`` that is missing there, of another size, or newer
    (S3's LastModified is the upload time), in any direction: local↔S3, S3→S3, local→local.

    * ``size_only``: compare sizes only.  ``exact_timestamps``: with a local target, also copy
      same-size files whose modification times differ at all.  ``checksum``: compare content (MD5
      against single-part ETags, the part-wise MD5 of multipart ETags, else size and time decide and
      the report's ``checksum_fallback`` names the file).
    * ``exclude``/``include``: glob patterns on the path relative to the roots (``*`` spans ``/``),
      applied like the AWS CLI's with every ``--exclude`` before every ``--include`` (``filters``:
      ``[("exclude", p), ("include", q), ...]`` in any order; the last match decides).  Excluded
      files are neither copied nor deleted.
    * ``delete``: remove target files the source does not have - only after every copy succeeded.
    * ``dryrun``: list and compare only; nothing is written.
    * ``progress``/``cancel``/``engine``: as for :func:`~tfm_jupyter.transfer.copy` (with a Dask client
      the comparison is made here, the copies on the cluster, and the report is the same).

    Files copied to a local folder get the source's modification time, so a second sync skips them.
    """
    source, target = Path(source), Path(target)
    rules = list(filters) if filters is not None else [*(("exclude", p) for p in exclude),
                                                       *(("include", p) for p in include)]
    meter = _Meter()
    with cancel_scope(cancel):  # a cancel stops the listings at their next page
        plan = compare(source, target, size_only=size_only, exact_timestamps=exact_timestamps, checksum=checksum,
                       rules=rules, fresh=True)
    protected = _apply_overlap_rule(source, target, plan)
    report = SyncReport(str(source), str(target), dryrun=dryrun, copied=plan.copies,
                        skipped=plan.unchanged + protected, checksum_fallback=plan.fallback,
                        deleted=plan.extra if delete else [], failed=plan.refused)
    if not dryrun:
        _run(source, target, report, progress, cancel, engine)
    report.requests = meter.sent()
    if report.failed and not dryrun:
        deleted = f"{len(report.deleted)} files were deleted before" if report.deleted else "nothing was deleted"
        raise errors.SyncError(
            f"sync of {len(report.failed)} of {len(report.copied) + len(report.failed)} files failed "
            f"(first: {report.failed[0].path}: {report.failed[0].error}); {deleted}. "
            "See .report for what was copied.", report)
    return report


def _apply_overlap_rule(source: Any, target: Any, plan: Comparison) -> list[SyncItem]:
    """Where source and target overlap: refuse copies that would land inside the source (before
    anything is written), and take every target file inside the source off the delete list (returned,
    to be reported as skipped)."""
    if overlap(source, target) is None:
        return []
    if overlap(source, target) == "same":
        raise errors.OverlapError(f"cannot sync {str(source)!r} with itself")
    clashes = [item for item in plan.copies if inside(target.child(*item.path.split("/")), source)]
    if clashes:
        raise errors.OverlapError(
            f"refused: {str(source)!r} and {str(target)!r} overlap, and {len(clashes)} of the files to copy "
            f"would be written inside the source itself (first: {clashes[0].path}); nothing was copied or "
            "deleted. Sync into a folder outside the source")
    protected = [item for item in plan.extra if inside(target.child(*item.path.split("/")), source)]
    plan.extra = [item for item in plan.extra if item not in protected]
    return [SyncItem(item.path, item.size, "inside the source: never deleted") for item in protected]


class Comparison:
    """What differs between two trees: ``copies`` (with why), ``unchanged``, ``extra`` (only at the
    target) and ``refused`` (cannot be written there); ``fallback`` names the files ``checksum``
    could not compare."""

    def __init__(self) -> None:
        self.copies: list[SyncItem] = []
        self.unchanged: list[SyncItem] = []
        self.extra: list[SyncItem] = []
        self.refused: list[SyncItem] = []
        self.fallback: list[str] = []


def compare(source: Any, target: Any, *, size_only: bool = False, exact_timestamps: bool = False,
            checksum: bool = False, rules: Iterable[tuple[str, str]] = (), fresh: bool = False) -> Comparison:
    """Compare the trees below ``source`` and ``target`` (changes nothing).  ``fresh`` lists both
    afresh instead of trusting cached listings."""
    source, target = Path(source), Path(target)
    ours = list_files(source, fresh=fresh)  # first: a missing source is the error to report, not the target
    theirs = list_files(target, fresh=fresh, must_exist=False)
    return compare_files(source, target, ours, theirs, size_only=size_only, exact_timestamps=exact_timestamps,
                         checksum=checksum, rules=rules)


def compare_files(source: Any, target: Any, ours: Files, theirs: Files, *, size_only: bool = False,
                  exact_timestamps: bool = False, checksum: bool = False,
                  rules: Iterable[tuple[str, str]] = ()) -> Comparison:
    """:func:`compare` on trees already listed by :func:`list_files`."""
    select = make_filter(rules) or (lambda _: True)
    result = Comparison()
    local_target = target.backend.local_name(target) is not None
    for parts in sorted(ours):
        name = "/".join(parts)
        if not select(name):
            continue
        mine, other = ours[parts], theirs.get(parts)
        try:
            target.backend.join_below(target, parts)
        except errors.UnsafeName as exc:
            result.refused.append(SyncItem(name, mine.size, "", str(exc)))
            continue
        reason = _reason(source, target, parts, mine, other, size_only=size_only, checksum=checksum,
                         exact=exact_timestamps and local_target, fallback=result.fallback)
        item = SyncItem(name, mine.size, reason or "unchanged", mtime=mine.mtime, etag=mine.etag)
        (result.copies if reason else result.unchanged).append(item)
    result.extra = [SyncItem("/".join(parts), theirs[parts].size, "not in the source")
                    for parts in sorted(theirs) if parts not in ours and select("/".join(parts))]
    return result


def list_files(root: Any, *, fresh: bool = False, must_exist: bool = True) -> Files:
    """Every file below the folder ``root`` by its components, from the backend's tree listing (on
    S3 one flat listing; ``fresh`` ignores what the cache holds)."""
    if fresh:
        root.backend.forget(root)
    tree = root.backend.tree(root)
    if not tree[()].exists:
        if not must_exist and root.backend.implicit_dirs:
            return {}  # a target prefix that is not there yet (an object of that name may coexist)
        info = root.backend.stat(root)  # a file here, or nothing at all?
        if info is not None and info.is_file:
            raise errors.NotADirectory("Not a directory: sync works on folders and prefixes", str(root), "sync")
        if must_exist:
            raise errors.NotFound("No such file or directory (nothing to sync from)", str(root), "sync")
        return {}
    return {(*rel, name): child for rel, listing in tree.items()
            for name, child in listing.children.items() if child.is_file}


def seconds(info: ObjectInfo) -> int:
    """A modification time in whole seconds, as sync and compare weigh it."""
    # S3 keeps whole seconds: a local mtime of 12:00:00.7 uploaded at 12:00:00 is not "newer".
    return int(info.mtime or 0)


def _reason(source: Any, target: Any, parts: tuple[str, ...], mine: ObjectInfo, other: ObjectInfo | None, *,
            size_only: bool, checksum: bool, exact: bool, fallback: list[str]) -> str:
    """Why the file must be copied ('' if it need not be)."""
    if other is None:
        return "new"
    if mine.size != other.size:
        return "size differs"
    if size_only:
        return ""
    if checksum:
        same = _same_content(source.child(*parts), mine, target.child(*parts), other)
        if same is not None:
            return "" if same else "content differs"
        fallback.append("/".join(parts))
    if exact:
        return "timestamps differ" if seconds(mine) != seconds(other) else ""
    return "newer at the source" if seconds(mine) > seconds(other) else ""


def _same_content(a: Any, a_info: ObjectInfo, b: Any, b_info: ObjectInfo) -> bool | None:
    """Same bytes?  ETags against ETags or local MD5s; None when no MD5 can tell."""
    if a_info.etag and b_info.etag:
        if a_info.etag == b_info.etag:
            return True
        return False if "-" not in a_info.etag + b_info.etag else None
    if a_info.etag or b_info.etag:
        s3_info, other = (a_info, b) if a_info.etag else (b_info, a)
        return etag_matches(s3_info.etag, s3_info.size, lambda: other.backend.open_read(other))
    with a.backend.open_read(a) as left, b.backend.open_read(b) as right:
        return md5_etag(left) == md5_etag(right)


def _run(source: Any, target: Any, report: SyncReport, progress: Any, cancel: threading.Event | None,
         engine: Any) -> None:
    jobs = {str(source.child(*item.path.split("/"))): item for item in report.copied}
    plan = transfer.TransferPlan(source, target)
    for item in report.copied:
        parts = tuple(item.path.split("/"))
        plan.files.append(transfer.FileJob(source.child(*parts), target.backend.join_below(target, parts),
                                           item.size, item.etag))
    failures: dict[str, BaseException] = {}
    if plan.files:
        try:
            transfer.execute(plan, progress=progress, cancel=cancel, engine=engine)
        except errors.TransferError as exc:
            failures = exc.failures
    for source_text, error in failures.items():
        item = jobs[source_text]
        report.copied.remove(item)
        report.failed.append(SyncItem(item.path, item.size, item.reason, str(error)))
    _keep_times(plan, jobs, set(failures))
    if report.failed:
        report.deleted = []  # nothing is deleted unless every copy arrived
        return
    if report.deleted:
        _delete(target, report)


def _keep_times(plan: transfer.TransferPlan, jobs: dict[str, SyncItem], failed: set[str]) -> None:
    """A copy on storage that keeps times set by us (a local disk, SFTP) gets its source's mtime (S3's
    LastModified), so the next sync sees it unchanged."""
    for job in plan.files:
        mtime = jobs[str(job.source)].mtime
        if str(job.source) not in failed and mtime:
            with contextlib.suppress(OSError):
                if not job.target.backend.set_mtime(job.target, mtime):
                    return  # the storage keeps its own times: no file of this target can take ours


def _delete(target: Any, report: SyncReport) -> None:
    paths = {str(target.child(*item.path.split("/"))): item for item in report.deleted}
    failed = target.backend.delete_many([target.child(*item.path.split("/")) for item in report.deleted])
    for text, error in failed.items():
        item = paths.get(text)
        if item is not None:
            report.deleted.remove(item)
            report.failed.append(SyncItem(item.path, item.size, "delete", str(error)))


class _Meter:
    """Requests (of every backend) sent while a sync runs."""

    def __init__(self) -> None:
        self._start = meter.reading()

    def sent(self) -> int:
        return (meter.reading() - self._start).total

