"""The ``aws s3``-like commands behind the magics, as plain functions (usable and tested without IPython).

Relative names resolve against a current location set with :func:`cd` (``%s3cd``); Python code
gets it with ``tfm_jupyter.cwd()`` and resolves names with ``tfm_jupyter.resolve(name)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import errors
from .errors import CommandError
from .path import LocalPath, Path, S3Path
from .results import DiskUsage, Entry, GrepResult, ListingResult, TextResult, TransferReport
from .units import make_filter, parse_size, parse_when
from .uri import is_s3_uri

__all__ = ["RM_CONFIRM_OVER", "CellMeter", "TextResult", "cat", "cd", "cp", "cwd", "du", "find", "grep", "ls", "mkdir",
           "mv", "presign", "pwd", "resolve", "rm", "sync"]

RM_CONFIRM_OVER = 5  # deleting more objects than this needs --yes
CAT_DEFAULT_BYTES = 64 * 1024

_cwd: Any = None


# -- current location ----------------------------------------------------------------------------


def cwd() -> Any:
    """The current location of the magics (a local or S3 ``Path``); starts at the process's cwd."""
    return _cwd if _cwd is not None else Path.cwd()


def resolve(name: Any) -> Any:
    """``name`` as a Path: ``s3://`` and absolute local names as they are, others below :func:`cwd`."""
    if isinstance(name, (S3Path, LocalPath)):
        return name
    text = str(name)
    if is_s3_uri(text):
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
    elif isinstance(root, S3Path) and not root.bucket:  # s3:// lists buckets: no HeadBucket each
        entries = [Entry(p, p.bucket, True) for p in root.iterdir()]
    else:
        entries = [_entry(p, p.name) for p in root.iterdir()]
    entries.sort(key=_SORTS[sort])
    return ListingResult(root, entries, long=long, human=human)


def du(name: Any = ".", *, human: bool = False) -> DiskUsage:
    """Total bytes, files and directories below a path (one flat listing on S3)."""
    root = resolve(name)
    if root.is_file() and not root.is_dir():
        return DiskUsage(root, root.stat().st_size, 1, 0, human)
    total = files = directories = 0
    for directory, dirnames, filenames in root.walk():
        directories += len(dirnames)
        files += len(filenames)
        total += sum((directory / f).stat().st_size for f in filenames)
    if files == directories == 0 and not root.is_dir():
        raise errors.NotFound("No such file or directory", str(root), "du")
    return DiskUsage(root, total, files, directories, human)


def find(name: Any = ".", *, pattern: str | None = None, newer: str | None = None, larger: str | None = None,
         contains: str | None = None, regex: bool = False, ignore_case: bool = False,
         limit: int | None = None) -> ListingResult:
    """Files below a path by name glob, age, size and content (one flat listing, then only the GETs
    content search needs)."""
    from . import search

    root = resolve(name)
    when = parse_when(newer) if newer else None
    size = parse_size(larger) if larger else None
    found = search.find(root, pattern, contains, regex=regex, ignore_case=ignore_case, larger=size, newer=when,
                        limit=limit)
    entries = [_entry(path, path.relative_to(root).as_posix()) for path in found]
    entries.sort(key=_SORTS["name"])
    return ListingResult(root, entries, long=True)


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
    if isinstance(path, S3Path):
        from .s3.stores import get_store

        if not path.key:
            raise errors.IsADirectory("Is a directory", str(path), "read")
        return get_store().read_range(path.bucket, path.key, 0, limit - 1)
    with path.open("rb") as handle:
        return handle.read(limit)


def cat(name: Any, *, nbytes: int | None = None) -> TextResult:
    """The first ``nbytes`` (default 64 KiB) of a text object, decoded as UTF-8 (one ranged GET)."""
    limit = nbytes or CAT_DEFAULT_BYTES
    if limit <= 0:
        raise CommandError("-n must be positive")
    return TextResult(head_bytes(resolve(name), limit).decode("utf-8", errors="replace"))


def presign(name: Any, *, expires: int = 3600) -> TextResult:
    """A presigned GET URL (computed locally; anyone holding it can read the object until it expires)."""
    path = resolve(name)
    if not isinstance(path, S3Path):
        raise CommandError(f"{path} is a local path; only S3 objects can be presigned")
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
                f"not synced: this would delete {len(plan.deleted)} files at {destination}; check the list "
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
    doomed: list[Any] = []
    for name in names:
        path = resolve(name)
        if path.is_dir():
            if not recursive:
                raise CommandError(f"{path} is a directory; use -r to delete everything below it")
            doomed.extend(_everything_below(path))
        elif path.is_file():
            doomed.append(path)
        else:
            raise errors.NotFound("No such file or directory", str(path), "rm")
    report = TransferReport("delete", [(str(p), "") for p in doomed], dryrun=dryrun)
    if dryrun:
        return report
    if len(doomed) > RM_CONFIRM_OVER and not yes:
        raise ConfirmationNeeded(
            f"not deleted: this would delete {len(doomed)} objects; check the list and re-run with --yes", report)
    _delete(doomed)
    return report


def _everything_below(root: Any) -> list[Any]:
    if isinstance(root, S3Path):
        from .s3.stores import get_store

        tree = get_store().tree(root.bucket, root.dir_prefix)
        markers = [S3Path.from_key(root.bucket, prefix)
                   for prefix, listing in tree.items() if listing.has_marker and prefix]
        return [p for p in root.rglob("*") if p.is_file()] + markers
    return [p for p in root.rglob("*") if p.is_file() or p.is_symlink()] + [root]


def _delete(paths: list[Any]) -> None:
    from .s3.stores import get_store

    by_bucket: dict[str, list[str]] = {}
    local: list[Any] = []
    for path in paths:
        if isinstance(path, S3Path):
            by_bucket.setdefault(path.bucket, []).append(path.key)
        else:
            local.append(path)
    failures: dict[str, BaseException] = {}
    for bucket, keys in by_bucket.items():
        failures.update(get_store().delete_many(bucket, keys))
    for path in sorted(local, key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    if failures:
        raise errors.TransferError(f"{len(failures)} objects could not be deleted", failures)


# -- the request meter ------------------------------------------------------------------------------


class CellMeter:
    """Prints, after each notebook cell, the S3 requests it made and those the cache saved."""

    def __init__(self, show: Callable[[str], None] = print):
        self._show = show
        self._start: Any = None

    def before(self, *_: Any) -> None:
        from .s3.stores import meter_reading

        self._start = meter_reading()

    def after(self, *_: Any) -> None:
        from .s3.stores import meter_reading

        if self._start is not None:
            self._show((meter_reading() - self._start).summary())
            self._start = None
