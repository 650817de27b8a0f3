"""Find files by name, size, age and content, below a local folder or an S3 prefix.

Names cost one flat listing (ceil(N/1000) requests for N keys).  Content is read only for the files
that pass every other test, streamed (a file that matches early is not read to the end), with
bounded parallelism; binary files (a NUL in the first 8 KiB) and files above ``max_bytes``
(10 MiB unless told otherwise) are skipped.  Iteration stops promptly on KeyboardInterrupt or when
``cancel`` is set, and in-flight reads are abandoned.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import errors
from .cancel import Either, cancel_scope
from .path import Path
from .units import parse_size, parse_when

__all__ = ["Found", "Match", "find", "grep", "matching_lines"]

MAX_CONTENT_BYTES = 10 * 2**20
BINARY_SNIFF = 8192
WORKERS = 32  # content reads in flight: at real-S3 latency, what is in flight decides


@dataclass(frozen=True)
class Match:
    """One matching line (``grep``)."""

    path: Any
    line_number: int
    line: str


@dataclass(frozen=True)
class _Candidate:
    path: Any
    size: int
    mtime: float


def _pattern(contains: str | re.Pattern[str] | None, regex: bool, ignore_case: bool) -> re.Pattern[str] | None:
    if contains is None:
        return None
    if isinstance(contains, re.Pattern):
        return contains
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(contains if regex else re.escape(contains), flags)


def _when(value: float | datetime | str | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    return parse_when(value)


def _size(value: int | str | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return parse_size(value)


def _candidates(root: Any, name: str | None, ignore_case: bool, larger: int | None,
                newer: float | None) -> Iterator[_Candidate]:
    """Every file below ``root`` passing the cheap tests, from one survey of its backend (one flat
    listing on S3), in key order."""
    survey = root.backend.survey(root)
    if survey.info is None:
        return
    if survey.pages is None:  # one file
        yield from _keep(root, survey.info.size, survey.info.mtime or 0.0, name, ignore_case, larger, newer)
        return
    files = sorted(("/".join((*rel, child)), rel, child, info) for page in survey.pages
                   for rel, listing in page.items() for child, info in listing.children.items() if info.is_file)
    for _, rel, child, info in files:  # in key order, as S3 lists them
        yield from _keep(root.child(*rel, child), info.size, info.mtime or 0.0, name, ignore_case, larger, newer)


def _inventory_candidates(root: Any, report: Any, prefix: str, live: list[Any], tests: tuple[Any, ...]
                          ) -> Iterator[_Candidate]:
    """The files below ``root`` as the inventory lists them (streamed, in the report's order), then the
    ``live`` folders', listed now."""
    for folder in live:
        if not str(folder).startswith(str(root).rstrip("/") + "/"):
            raise ValueError(f"a live folder must be below {root}: {folder}")
    live_prefixes = tuple(f"{folder.key.rstrip('/')}/" for folder in live)
    for item in report.objects(prefix):
        if not item.key.startswith(live_prefixes) and not item.key.endswith("/"):  # a marker is no file
            yield from _keep(root.child(*item.key[len(prefix):].split("/")), item.size, item.mtime, *tests)
    for folder in live:
        yield from _candidates(folder, *tests)


def _keep(path: Any, size: int, mtime: float, name: str | None, ignore_case: bool, larger: int | None,
          newer: float | None) -> Iterator[_Candidate]:
    if name is not None:
        matches = fnmatch.fnmatch if ignore_case else fnmatch.fnmatchcase
        if not matches(path.name.lower() if ignore_case else path.name, name.lower() if ignore_case else name):
            return
    if larger is not None and size <= larger:
        return
    if newer is not None and mtime <= newer:
        return
    yield _Candidate(path, size, mtime)


def _chunks(path: Any, size: int, limit: int) -> Iterator[bytes]:
    """The file's bytes in chunks, streamed (one ranged GetObject on S3), at most ``limit`` of them."""
    if size == 0:
        return  # S3 refuses a ranged GET of an empty object, and there is nothing to read
    yield from path.backend.iter_bytes(path, 0, min(size, limit))


def _matching_lines(candidate: _Candidate, pattern: re.Pattern[str], first_only: bool, cancel: Either
                    ) -> list[Match]:
    """Lines of a text file that match, reading no further than needed."""
    path = candidate.path
    found: list[Match] = []
    pending, number, sniffed = b"", 0, False
    for chunk in _chunks(path, candidate.size, MAX_CONTENT_BYTES):
        if cancel.is_set():
            return found
        if not sniffed:
            sniffed = True
            if b"\0" in chunk[:BINARY_SNIFF]:
                return []  # binary: skipped
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for raw in lines:
            number += 1
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if pattern.search(text):
                found.append(Match(path, number, text))
                if first_only:
                    return found
    if pending:
        text = pending.decode("utf-8", errors="replace")
        if pattern.search(text):
            found.append(Match(path, number + 1, text))
    return found


def matching_lines(path: Any, size: int, pattern: re.Pattern[str], first_only: bool) -> list[Match]:
    """The matching lines of the text file ``path`` of ``size`` bytes (a Dask worker's reads)."""
    return _matching_lines(_Candidate(path, size, 0.0), pattern, first_only, Either(threading.Event()))


def _scan(candidates: list[_Candidate], pattern: re.Pattern[str], first_only: bool, workers: int,
          cancel: threading.Event, progress: Callable[[int, int], None] | None, engine: Any = None
          ) -> Iterator[list[Match]]:
    """Read candidates in parallel; yield each file's matches as soon as it is done."""
    readable = [c for c in candidates if c.size <= MAX_CONTENT_BYTES]
    if engine is not None:
        from .engines import scan_on

        for lines in scan_on(engine, [(c.path, c.size) for c in readable], pattern, first_only, cancel, progress):
            yield [Match(path, number, line) for path, number, line in lines]
        return
    if readable:  # the storage says how many calls it takes at once
        workers = max(1, min(workers, readable[0].path.backend.concurrency))
    halt = threading.Event()
    stop = Either(cancel, halt)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="tfm-search")
    pending: set[Future[list[Match]]] = set()
    queue = iter(readable)
    done_count = 0
    try:
        for candidate in queue:
            pending.add(pool.submit(_matching_lines, candidate, pattern, first_only, stop))
            if len(pending) >= workers * 2:
                break
        while pending:
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            if cancel.is_set():
                raise errors.Cancelled("search cancelled")
            for future in finished:
                done_count += 1
                if progress is not None:
                    progress(done_count, len(readable))
                try:
                    matches = future.result()
                except (OSError, ValueError):
                    matches = []  # unreadable (deleted meanwhile, access denied): not a match
                if matches:
                    yield matches
                next_candidate = next(queue, None)
                if next_candidate is not None:
                    pending.add(pool.submit(_matching_lines, next_candidate, pattern, first_only, stop))
    finally:
        halt.set()  # stops every read still running (the caller's event is left alone)
        pool.shutdown(wait=False, cancel_futures=True)


class Found(Iterator[Any]):
    """What :func:`find` returns: the matching paths as they are found, and ``inventory_time`` (when
    the inventory they came from was taken; ``None`` for a live listing)."""

    def __init__(self, candidates: Iterator[_Candidate], inventory_time: datetime | None):
        self._paths, self.inventory_time = candidates, inventory_time

    def __next__(self) -> Any:
        return next(self._paths).path

    def with_details(self) -> Iterator[tuple[Any, int, float]]:
        """The rest of the matches as ``(path, size, mtime)``, as the listing or the inventory gave them
        (nothing is kept: a find over millions of keys streams)."""
        return ((candidate.path, candidate.size, candidate.mtime) for candidate in self._paths)

    def close(self) -> None:
        close = getattr(self._paths, "close", None)
        if close is not None:
            close()


def find(root: Any, name: str | None = None, contains: str | re.Pattern[str] | None = None, *,
         regex: bool = False, ignore_case: bool = False, larger: int | str | None = None,
         newer: float | datetime | str | None = None, limit: int | None = None, workers: int = WORKERS,
         cancel: threading.Event | None = None, progress: Callable[[int, int], None] | bool | None = None,
         inventory: Any = None, live: Iterable[Any] = (), engine: Any = None) -> Found:
    """The files below ``root`` that match every given test, as they are found.

    ``name`` is a glob on the file name; ``contains`` a text (or, with ``regex=True`` or a compiled
    pattern, a regular expression) that some line must contain; ``larger`` a size in bytes or like
    ``'10M'``; ``newer`` a timestamp, datetime, date string or age like ``'7d'``.  Content search
    reads only text files up to 10 MiB.  ``progress``: ``None`` shows a tqdm bar when more than 200
    files must be read, ``False`` nothing, or a callable ``(files_read, files_to_read)``.

    ``inventory``: an S3 Inventory report (the URI of its ``manifest.json``, or
    :func:`~tfm_jupyter.inventory.read_inventory`'s result) answers instead of a listing of ``root``'s
    bucket; ``live``: folders below ``root`` known to have changed since, listed afresh.  The result's
    ``inventory_time`` says when the inventory was taken.  ``engine``: a Dask client reads the
    contents on its cluster (the listing is made here).
    """
    root = Path(root)
    tests = (name, ignore_case, _size(larger), _when(newer))
    if inventory is None:
        return Found(_find(root, _candidates(root, *tests), contains, regex, ignore_case, limit, workers, cancel,
                           progress, engine), None)
    from .inventory import report_for

    report, prefix = report_for(root, inventory)
    candidates = _inventory_candidates(root, report, prefix, [Path(folder) for folder in live], tests)
    return Found(_find(root, candidates, contains, regex, ignore_case, limit, workers, cancel, progress, engine),
                 report.created_at)


def _find(root: Any, candidates: Iterator[_Candidate], contains: str | re.Pattern[str] | None, regex: bool,
          ignore_case: bool, limit: int | None, workers: int, cancel: threading.Event | None,
          progress: Callable[[int, int], None] | bool | None, engine: Any) -> Iterator[_Candidate]:
    stop = cancel or threading.Event()
    pattern = _pattern(contains, regex, ignore_case)
    found = 0
    if pattern is None:
        for candidate in candidates:
            if stop.is_set():
                raise errors.Cancelled("search cancelled")
            yield candidate
            found += 1
            if limit is not None and found >= limit:
                return
        return
    with cancel_scope(stop):
        files = list(candidates)
    with _progress_bar(progress, len(files)) as report:
        by_path = {str(candidate.path): candidate for candidate in files}
        for matches in _scan(files, pattern, True, workers, stop, report, engine):
            yield by_path[str(matches[0].path)]
            found += 1
            if limit is not None and found >= limit:
                return


def grep(pattern: str | re.Pattern[str], root: Any, *, name: str | None = None, ignore_case: bool = False,
         fixed: bool = False, limit: int | None = None, workers: int = WORKERS,
         cancel: threading.Event | None = None, progress: Callable[[int, int], None] | bool | None = None,
         engine: Any = None) -> Iterator[Match]:
    """Every matching line below ``root`` (``grep -rn``): a regular expression unless ``fixed``;
    ``engine``: a Dask client reads the files on its cluster."""
    root = Path(root)
    compiled = _pattern(pattern, not fixed, ignore_case)
    assert compiled is not None
    stop = cancel or threading.Event()
    with cancel_scope(stop):
        files = list(_candidates(root, name, ignore_case, None, None))
    found = 0
    with _progress_bar(progress, len(files)) as report:
        for matches in _scan(files, compiled, False, workers, stop, report, engine):
            for match in matches:
                yield match
                found += 1
                if limit is not None and found >= limit:
                    return


class _progress_bar:
    """A tqdm bar for long scans (progress=None), the caller's callable, or nothing."""

    def __init__(self, progress: Callable[[int, int], None] | bool | None, total: int):
        self._bar: Any = None
        self._callback = progress if callable(progress) else None
        if progress is None and total > 200:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="file", desc="searching")

    def __enter__(self) -> Callable[[int, int], None]:
        return self._report

    def _report(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
        if self._callback is not None:
            self._callback(done, total)

    def __exit__(self, *_: Any) -> None:
        if self._bar is not None:
            self._bar.close()
