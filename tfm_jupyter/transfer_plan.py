"""Planning a copy: every file, its size and target, and every check that can fail early.

A plan changes nothing.  A big S3 tree can be planned from its first listing page, the rest
following in ``plan.pending`` as it is listed (see :func:`plan_copy`'s ``stream``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .path import LocalPath, Path, S3Path
from .storage_path import StoragePath, walk_tree

__all__ = ["FileJob", "Selector", "TransferPlan", "check_not_inside", "join_below", "plan_copy", "same_file"]

Selector = Callable[[str], bool]  # relative posix path of a file below the source -> copy it?


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
            check_not_inside(source, target)
            if _lands_on_a_file(target, overwrite):
                raise errors.NotADirectory("Not a directory: cannot copy a directory onto a file", str(target), "copy")
            plan.pending = (_plan_page(plan, page) for page in pages)
            return plan
    if isinstance(source, S3Path) and source.key:
        _s3_store().survey(source.bucket, source.key)  # answers is_dir() and lists the tree at once
    if source.is_dir():
        check_not_inside(source, target)
        if _lands_on_a_file(target, overwrite):
            raise errors.NotADirectory("Not a directory: cannot copy a directory onto a file", str(target), "copy")
        _plan_tree(plan)
    elif source.is_file():
        if same_file(source, target):
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


def check_not_inside(source: Any, target: Any) -> None:
    """Refuse to copy a directory into itself."""
    if type(source) is not type(target):
        return
    if same_file(source, target) or _resolved(target).is_relative_to(_resolved(source)):
        raise errors.SameFileError(f"cannot copy {str(source)!r} into itself ({str(target)!r})")


def _resolved(path: Any) -> Any:
    return path.resolve() if isinstance(path, LocalPath) else path


def same_file(a: Any, b: Any) -> bool:
    """Whether two paths name the same file (local paths resolved)."""
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
