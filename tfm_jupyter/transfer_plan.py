"""Planning a copy: every file, its size and target, and every check that can fail early.

A plan changes nothing.  It is made from the source backend's :meth:`~tfm_jupyter.backends.Backend.survey`
(on S3 one flat listing answers what the source is and lists its tree), and every target name goes
through the target backend's name gate (:meth:`~tfm_jupyter.backends.Backend.join_below`).  A big tree
that the backend lists page by page is planned from its first page, the rest following in
``plan.pending`` as it is listed (see :func:`plan_copy`'s ``stream``).

The overlap rule: a copy or move whose target lies inside its source, or that would write a file
inside its source (a folder moved into its parent where a same-named child lives), is refused
before the first byte moves (:class:`~tfm_jupyter.errors.OverlapError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .backends import FileJob
from .entries import Listing, Tree
from .path import Path

__all__ = ["FileJob", "Selector", "TransferPlan", "check_overlap", "gate", "inside", "plan_copy", "same_file"]

Selector = Callable[[str], bool]  # relative posix path of a file below the source -> copy it?


@dataclass
class TransferPlan:
    """Everything a copy will do, computed before anything is changed."""

    source: Any
    target: Any
    files: list[FileJob] = field(default_factory=list)
    directories: list[Any] = field(default_factory=list)  # targets to create (kept even when empty)
    source_dirs: list[Any] = field(default_factory=list)  # directories of the source to remove on a move
    refused: dict[str, OSError] = field(default_factory=dict)  # sources that cannot go to the target
    select: Selector | None = None
    pending: Iterator[TransferPlan] | None = None  # the rest of a big tree, planned as it is listed
    _gated: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    @property
    def total_bytes(self) -> int:
        return sum(job.size for job in self.files)

    def absorb(self, part: TransferPlan) -> None:
        """Add what a later listing page planned."""
        self.files.extend(part.files)
        self.directories.extend(part.directories)
        self.source_dirs.extend(part.source_dirs)
        self.refused.update(part.refused)


def plan_copy(source: Any, target: Any, *, overwrite: bool = True, select: Selector | None = None,
              stream: bool = False) -> TransferPlan:
    """Check and list everything copying ``source`` to ``target`` involves, changing nothing.

    ``select`` filters the files of a directory by their path relative to ``source``.  With
    ``stream``, a tree its backend lists page by page (S3 beyond 1,000 keys) is planned from its
    first page and ``plan.pending`` plans the rest as it is listed (on its own thread), so
    :func:`~tfm_jupyter.transfer.execute` starts copying before the listing ends.  Not with
    ``overwrite=False``, which checks every target before the first byte moves, nor where the
    source lies inside the target, which checks every target against the source first.
    """
    source, target = Path(source), Path(target)
    plan = TransferPlan(source, target, select=select)
    source_in_target = overlap(source, target) == "source inside target"
    survey = source.backend.survey(source, stream=stream and overwrite and not source_in_target)
    if survey.info is None:
        raise errors.NotFound("No such file or directory", str(source), "copy")
    if survey.pages is not None:
        check_overlap(source, target)
        if _lands_on_a_file(target, overwrite):
            raise errors.NotADirectory("Not a directory: cannot copy a directory onto a file", str(target), "copy")
        if survey.streamed:  # every page, the first one included, is planned as the copy runs
            plan.pending = (_planned_part(plan, page) for page in survey.pages)
            return plan
        for page in survey.pages:
            _plan_page(plan, page)
    else:
        if same_file(source, target):
            raise errors.SameFileError(f"{str(source)!r} and {str(target)!r} are the same file")
        if target.is_dir():
            raise errors.IsADirectory("Is a directory (use copy_into to copy into it)", str(target), "copy")
        if select is None or select(source.name):
            plan.files.append(FileJob(source, target, survey.info.size, survey.info.etag))
    if source_in_target:
        _refuse_writes_into_source(plan)
    if not overwrite:
        _refuse_existing(plan)
    return plan


# -- overlap -----------------------------------------------------------------------------------------


def overlap(a: Any, b: Any) -> str | None:
    """How two paths of one storage overlap: ``"same"``, ``"target inside source"`` (``b`` inside
    ``a``), ``"source inside target"``, or None."""
    if a.backend is not b.backend:
        return None
    here, there = a.backend.location(a), b.backend.location(b)
    if here == there:
        return "same"
    if there[:len(here)] == here:
        return "target inside source"
    if here[:len(there)] == there:
        return "source inside target"
    return None


def inside(path: Any, root: Any) -> bool:
    """Whether ``path`` is ``root`` or lies below it (on the same storage)."""
    return overlap(root, path) in ("same", "target inside source")


def same_file(a: Any, b: Any) -> bool:
    """Whether two paths name the same file (local paths resolved)."""
    return overlap(a, b) == "same"


def check_overlap(source: Any, target: Any) -> None:
    """Refuse to copy a directory onto or into itself."""
    if overlap(source, target) in ("same", "target inside source"):
        raise errors.SameFileError(f"cannot copy {str(source)!r} into itself ({str(target)!r})")


def _refuse_writes_into_source(plan: TransferPlan) -> None:
    """The source lies inside the target: no planned file may land inside the source."""
    clashes = [job for job in plan.files if inside(job.target, plan.source)]
    if clashes:
        shown = ", ".join(str(job.target) for job in clashes[:3]) + (" …" if len(clashes) > 3 else "")
        raise errors.OverlapError(
            f"refused: {str(plan.source)!r} lies inside {str(plan.target)!r}, and {len(clashes)} of its files "
            f"would be written over files of the source itself ({shown}); nothing was copied. Copy it "
            "somewhere else first, or choose a target outside the source")


# -- the tree, page by page ----------------------------------------------------------------------------


def gate(plan: TransferPlan, rel: tuple[str, ...]) -> Any:
    """The target directory for ``rel`` below the plan's target, through the target's name gate
    (remembered per directory: a streamed tree names the same directories on many pages)."""
    if rel not in plan._gated:
        try:
            plan._gated[rel] = plan.target.backend.join_below(plan.target, rel)
        except errors.UnsafeName as exc:
            plan._gated[rel] = exc
    return plan._gated[rel]


def _planned_part(plan: TransferPlan, page: Tree) -> TransferPlan:
    part = TransferPlan(plan.source, plan.target, select=plan.select, _gated=plan._gated)
    _plan_page(part, page)
    return part


def _plan_page(plan: TransferPlan, page: Tree) -> None:
    for rel in sorted(page):
        _plan_directory(plan, rel, page[rel])


def _plan_directory(plan: TransferPlan, rel: tuple[str, ...], listing: Listing) -> None:
    source, target = plan.source, plan.target
    source_dir = source.child(*rel) if rel else source
    target_dir = gate(plan, rel)
    files = [(name, info) for name, info in sorted(listing.children.items()) if info.is_file]
    if isinstance(target_dir, errors.UnsafeName):
        for name, _ in files:
            plan.refused[str(source_dir.child(name))] = target_dir
        return
    # A directory in its own right (a folder, a bucket, a prefix with its marker object) is kept:
    # made at the target, and removed from the source by a move.
    explicit = listing.marker is not None or listing.dir_exists or not source.backend.implicit_dirs
    if explicit:
        plan.source_dirs.append(source_dir)
        if plan.select is None:  # a filtered copy creates directories only as files need them
            _keep_directory(plan, source_dir, target_dir, listing)
    for name, info in files:
        if plan.select is not None and not plan.select("/".join((*rel, name))):
            continue
        try:
            target_file = target.backend.join_below(target_dir, (name,))
        except errors.UnsafeName as exc:
            plan.refused[str(source_dir.child(name))] = exc
            continue
        plan.files.append(FileJob(source_dir.child(name), target_file, info.size, info.etag))


def _keep_directory(plan: TransferPlan, source_dir: Any, target_dir: Any, listing: Listing) -> None:
    backend = plan.target.backend
    if listing.marker is not None and backend.literal_names and backend.implicit_dirs:
        if target_dir.parent != target_dir:  # a bucket root needs no marker: copy it verbatim, content and all
            plan.files.append(FileJob(source_dir.child(""), target_dir.child(""), listing.marker.size,
                                      listing.marker.etag))
    elif not backend.implicit_dirs or not listing.children:
        plan.directories.append(target_dir)  # an object store needs a marker only where nothing else is


# -- checks before anything moves --------------------------------------------------------------------


def _lands_on_a_file(target: Any, overwrite: bool) -> bool:
    """Whether a directory copy would land on a file.

    On an object store that costs a request the copy itself does not need, so it is asked only with
    ``overwrite=False`` (where the same request, a survey, also lists what already exists below the
    target); otherwise S3 ends up holding the object and the folder side by side, as after
    ``write_bytes``.
    """
    if overwrite and target.backend.implicit_dirs:
        return False
    info = target.backend.survey(target).info
    return bool(info and info.is_file)


def _refuse_existing(plan: TransferPlan) -> None:
    if len(plan.files) == 1:
        existing = [str(job.target) for job in plan.files if job.target.exists()]
    else:  # one tree listing of the target answers every check
        target = plan.target
        there = {(*rel, name) for rel, listing in target.backend.tree(target).items()
                 for name, info in listing.children.items() if info.is_file}
        width = len(target.parts)
        existing = [str(job.target) for job in plan.files if tuple(job.target.parts[width:]) in there]
    if existing:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise errors.AlreadyExists(f"File exists (overwrite=False): {shown}; nothing was copied",
                                   existing[0], "copy")
