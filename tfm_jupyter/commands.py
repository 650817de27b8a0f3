"""The ``aws s3``-like commands behind the magics, as plain functions (usable and tested without IPython).

Relative names resolve against a current location set with :func:`cd` (``%s3cd``); Python code
gets it with ``tfm_jupyter.cwd()`` and resolves names with ``tfm_jupyter.resolve(name)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import errors, meter
from .backends import registered_scheme
from .errors import CommandError
from .path import Path
from .results import DiskUsage, Entry, GrepResult, ListingResult, TextResult, TransferReport
from .units import make_filter, parse_size, parse_when, plural

__all__ = ["RM_CONFIRM_OVER", "CellMeter", "TextResult", "cat", "cd", "cp", "cwd", "du", "find", "grep", "ls", "mkdir",
           "mv", "presign", "pwd", "resolve", "rm", "sync"]

RM_CONFIRM_OVER = 5  # deleting more objects than this needs --yes
CAT_DEFAULT_BYTES = 64 * 1024

_cwd: Any = None


# -- current location ----------------------------------------------------------------------------


def cwd() -> Any:
    """The current location of the magics (a local or S3 ``Path``); starts at the process's cwd."""
    return _cwd if _cwd is not None else Path.cwd()


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def resolve(name: Any) -> Any:
    """``name`` as a Path: ``scheme://`` URIs (``s3://``, ``sftp://``, ``memory://`` … any registered
    backend) and absolute local names as they are, others below :func:`cwd`.  A URI of a scheme no
    backend serves raises :class:`CommandError` (it is never taken for a local name)."""
    if isinstance(name, Path):
        return name
    text = str(name)
    scheme = _SCHEME.match(text)
    if scheme:
        if registered_scheme(text) is None:
            raise CommandError(f"no storage backend serves {scheme.group(1)}:// (see tfm_jupyter.backends."
                               "register_backend); a local name with '://' in it can be given as ./name")
        return Path(text)
    if text.startswith(("/", "~")):
        return Path(text).expanduser()
    base = cwd()
    for part in text.split("/"):
        if part == "..":
            base = base.parent
        elif part not in ("", "."):
            base = base / part
    return base


def cd(name: Any = None) -> Any:
    """Change the current location (no argument: back to the process's working directory)."""
    global _cwd
    if name is None:
        _cwd = None
        return cwd()
    target = resolve(name)
    if not target.is_dir():
        if target.exists():
            raise errors.NotADirectory("Not a directory", str(target), "cd")
        raise errors.NotFound("No such file or directory", str(target), "cd")
    _cwd = target
    return target


def pwd() -> TextResult:
    return TextResult(str(cwd()))


# -- listing --------------------------------------------------------------------------------------


def _entry(path: Any, name: str) -> Entry:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Entry(path, name, False)
    is_dir = path.is_dir() and not path.is_file()
    return Entry(path, name, is_dir, None if is_dir else stat.st_size, None if is_dir else stat.st_mtime)


_SORTS: dict[str, Callable[[Entry], Any]] = {
    "name": lambda e: (not e.is_dir, e.name),
    "size": lambda e: (not e.is_dir, e.size or 0, e.name),
    "time": lambda e: (not e.is_dir, e.mtime or 0, e.name),
}


def ls(name: Any = ".", *, long: bool = False, human: bool = False, recursive: bool = False,
       sort: str = "name") -> ListingResult:
    """List a directory (or show one file); ``recursive`` lists every file below it."""
    if sort not in _SORTS:
        raise CommandError(f"--sort must be one of {', '.join(_SORTS)}")
    root = resolve(name)
    if root.is_file() and not root.is_dir():
        entries = [_entry(root, root.name)]
    elif recursive:
        if not root.is_dir():
            raise errors.NotFound("No such file or directory", str(root), "ls")
        entries = [_entry(p, p.relative_to(root).as_posix()) for p in root.rglob("*") if p.is_file()]
    elif root.is_listing_root:  # s3:// lists buckets: no HeadBucket each
        entries = [Entry(p, p.authority, True) for p in root.iterdir()]
    else:
        entries = [_entry(p, p.name) for p in root.iterdir()]
    entries.sort(key=_SORTS[sort])
    return ListingResult(root, entries, long=long, human=human)


def du(name: Any = ".", *, human: bool = False, inventory: Any = None) -> DiskUsage:
    """Total bytes, files and directories below a path (one tree listing: on S3 one flat listing; with
    ``inventory``, an S3 Inventory report's manifest, no listing at all)."""
    root = resolve(name)
    if inventory is not None:
        return _du_from_inventory(root, inventory, human)
    survey = root.backend.survey(root)
    if survey.info is None:
        raise errors.NotFound("No such file or directory", str(root), "du")
    if survey.pages is None:
        return DiskUsage(root, survey.info.size, 1, 0, human)
    total = files = directories = 0
    for page in survey.pages:
        for listing in page.values():
            for info in listing.children.values():
                directories += info.is_dir
                files += info.is_file
                total += info.size if info.is_file else 0
    return DiskUsage(root, total, files, directories, human)


def _du_from_inventory(root: Any, inventory: Any, human: bool) -> DiskUsage:
    from .inventory import report_for

    report, prefix = report_for(root, inventory)
    total = files = 0
    folders: set[str] = set()
    for item in report.objects(prefix):
        parts = item.key[len(prefix):].split("/")
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
        if not item.key.endswith("/"):
            total, files = total + item.size, files + 1
    return DiskUsage(root, total, files, len(folders), human, report.created_at)


def find(name: Any = ".", *, pattern: str | None = None, newer: str | None = None, larger: str | None = None,
         contains: str | None = None, regex: bool = False, ignore_case: bool = False,
         limit: int | None = None, inventory: Any = None, live: Iterable[Any] = ()) -> ListingResult:
    """Files below a path by name glob, age, size and content (one flat listing, then only the GETs
    content search needs; with ``inventory``, an S3 Inventory report's manifest instead of the listing,
    and ``live`` folders listed afresh)."""
    from . import search

    root = resolve(name)
    when = parse_when(newer) if newer else None
    size = parse_size(larger) if larger else None
    found = search.find(root, pattern, contains, regex=regex, ignore_case=ignore_case, larger=size, newer=when,
                        limit=limit, inventory=inventory, live=[resolve(folder) for folder in live])
    entries = [Entry(path, path.relative_to(root).as_posix(), False, size, mtime)
               for path, size, mtime in found.with_details()]
    entries.sort(key=_SORTS["name"])
    return ListingResult(root, entries, long=True, inventory_time=found.inventory_time)


def grep(pattern: str, name: Any = ".", *, glob: str | None = None, ignore_case: bool = False,
         fixed: bool = False, limit: int | None = 1000) -> GrepResult:
    """Matching lines of the text files below a path, like ``grep -rn`` (at most ``limit``)."""
    from . import search

    root = resolve(name)
    matches = list(search.grep(pattern, root, name=glob, ignore_case=ignore_case, fixed=fixed,
                               limit=None if limit is None else limit + 1))
    matches.sort(key=lambda m: (str(m.path), m.line_number))
    truncated = limit is not None and len(matches) > limit
    return GrepResult(root, matches[:limit] if truncated else matches, truncated)


# -- reading --------------------------------------------------------------------------------------


def head_bytes(path: Any, limit: int) -> bytes:
    """The first ``limit`` bytes of a file: one ranged GET on S3, never the whole object."""
    return path.backend.read_range(path, 0, limit)


def cat(name: Any, *, nbytes: int | None = None) -> TextResult:
    """The first ``nbytes`` (default 64 KiB) of a text object, decoded as UTF-8 (one ranged GET)."""
    limit = nbytes or CAT_DEFAULT_BYTES
    if limit <= 0:
        raise CommandError("-n must be positive")
    return TextResult(head_bytes(resolve(name), limit).decode("utf-8", errors="replace"))


def presign(name: Any, *, expires: int = 3600) -> TextResult:
    """A presigned GET URL (computed locally; anyone holding it can read the object until it expires)."""
    path = resolve(name)
    if not hasattr(path, "presign"):
        raise CommandError(f"{path} is a local path; only objects in storage can be presigned")
    return TextResult(path.presign(expires=expires))


def mkdir(name: Any, *, parents: bool = False) -> Any:
    path = resolve(name)
    path.mkdir(parents=parents, exist_ok=parents)
    return path


# -- copy, move, remove -------------------------------------------------------------------------------


def _transfer(verb: str, sources: list[Any], destination: Any, *, recursive: bool, dryrun: bool,
              rules: Iterable[tuple[str, str]], progress: Any) -> TransferReport:
    from . import transfer

    if not sources:
        raise CommandError(f"{verb} needs a source and a destination")
    dest_text = str(destination)
    dest = resolve(destination)
    into = len(sources) > 1 or dest_text.endswith("/") or (dest.is_dir() and not _is_tree(sources))
    if len(sources) > 1 and not dest.is_dir() and not dest_text.endswith("/"):
        raise CommandError(f"with several sources the destination must be a directory: {dest}")
    select = make_filter(rules)
    report = TransferReport(verb, dryrun=dryrun)
    for text in sources:
        source = resolve(text)
        if source.is_dir() and not recursive:
            raise CommandError(f"{source} is a directory; use -r to {verb} it")
        target = transfer.target_in(dest, source) if into else dest
        plan = transfer.plan_copy(source, target, select=select)
        report.items.extend((str(job.source), str(job.target)) for job in plan.files)
        if not dryrun:
            run = transfer.move if verb == "move" else transfer.copy
            run(source, target, progress=progress, select=select)
    return report


def _is_tree(sources: list[Any]) -> bool:
    return len(sources) == 1 and resolve(sources[0]).is_dir()


def cp(sources: list[Any], destination: Any, *, recursive: bool = False, dryrun: bool = False,
       rules: Iterable[tuple[str, str]] = (), progress: Any = None) -> TransferReport:
    """Copy files (or, with ``recursive``, directories) like ``aws s3 cp``.

    A directory's *contents* go to the destination; several sources, or a destination ending in
    ``/`` or naming an existing directory, put each source *into* it.
    """
    return _transfer("copy", list(sources), destination, recursive=recursive, dryrun=dryrun, rules=rules,
                     progress=progress)


def mv(sources: list[Any], destination: Any, *, recursive: bool = False, dryrun: bool = False,
       rules: Iterable[tuple[str, str]] = (), progress: Any = None) -> TransferReport:
    """Move like ``aws s3 mv``: sources are deleted only after everything arrived."""
    return _transfer("move", list(sources), destination, recursive=recursive, dryrun=dryrun, rules=rules,
                     progress=progress)


def sync(source: Any, destination: Any, *, delete: bool = False, dryrun: bool = False, size_only: bool = False,
         exact_timestamps: bool = False, checksum: bool = False, rules: Iterable[tuple[str, str]] = (),
         yes: bool = False, progress: Any = None) -> Any:
    """``aws s3 sync`` (see :func:`tfm_jupyter.sync`); deleting with ``delete`` needs ``yes``."""
    from .synchronize import sync as run_sync

    options = dict(size_only=size_only, exact_timestamps=exact_timestamps, checksum=checksum, filters=list(rules))
    source, destination = resolve(source), resolve(destination)
    if delete and not dryrun and not yes:
        plan = run_sync(source, destination, delete=True, dryrun=True, **options)
        if plan.deleted:
            raise ConfirmationNeeded(
                f"not synced: this would delete {plural(len(plan.deleted), 'file')} at {destination}; check the list "
                "and re-run with --yes", plan)
    return run_sync(source, destination, delete=delete, dryrun=dryrun, progress=progress, **options)


class ConfirmationNeeded(CommandError):
    """``rm`` of many objects without ``--yes``; ``report`` lists what would be deleted."""

    def __init__(self, message: str, report: TransferReport):
        super().__init__(message)
        self.report = report


def rm(names: list[Any], *, recursive: bool = False, dryrun: bool = False, yes: bool = False) -> TransferReport:
    """Delete objects/files; directories need ``recursive``; more than a few objects need ``yes``."""
    if not names:
        raise CommandError("rm needs at least one path")
    doomed: list[tuple[Any, list[Any], list[Any]]] = []  # (root, files, directories) of each name
    for name in names:
        path = resolve(name)
        survey = path.backend.survey(path)
        if survey.info is None:
            raise errors.NotFound("No such file or directory", str(path), "rm")
        if survey.pages is None:
            doomed.append((path, [path], []))
        elif not recursive:
            raise CommandError(f"{path} is a directory; use -r to delete everything below it")
        else:
            doomed.append((path, *_everything_below(path, survey.pages)))
    report = TransferReport("delete", [(str(p), "") for _, files, dirs in doomed for p in (*files, *dirs)],
                            dryrun=dryrun)
    if dryrun:
        return report
    count = sum(len(files) for _, files, _ in doomed)
    if count > RM_CONFIRM_OVER and not yes:
        raise ConfirmationNeeded(
            f"not deleted: this would delete {count} objects; check the list and re-run with --yes", report)
    failures: dict[str, BaseException] = {}
    for root, files, directories in doomed:
        failures.update(root.backend.delete_tree(files, directories))
    if failures:
        raise errors.TransferError(f"{len(failures)} objects could not be deleted", failures)
    return report


def _everything_below(root: Any, pages: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """Every file below ``root`` and every directory that exists in its own right (a folder, a
    marker object), ``root`` included: what deleting the tree removes."""
    files, directories = [], []
    for page in pages:
        for rel, listing in page.items():
            here = root.child(*rel) if rel else root
            files.extend(here.child(name) for name, info in sorted(listing.children.items()) if info.is_file)
            if listing.marker is not None or not root.backend.implicit_dirs:
                directories.append(here)
    return files, directories


# -- the request meter ------------------------------------------------------------------------------


class CellMeter:
    """Prints, after each notebook cell, the requests it made (S3's and every other storage's) and
    those the caches saved."""

    def __init__(self, show: Callable[[str], None] = print):
        self._show = show
        self._start: Any = None

    def before(self, *_: Any) -> None:
        self._start = meter.reading()

    def after(self, *_: Any) -> None:
        if self._start is not None:
            self._show((meter.reading() - self._start).summary())
            self._start = None
