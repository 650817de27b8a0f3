"""A big tree's flat listing, as two key ranges listed side by side.

One flat ListObjectsV2 answers a tree of up to 1,000 keys in one request, and nothing is cheaper.
Beyond that a flat listing is a chain of requests, each waiting for the one before (at 50 ms a
round trip, 20,000 keys take a second).  So when the first page says there is more, the keys
still to come are split at one string, the *cut*: one thread goes on from the first page's last
key and stops at the cut, another starts after the cut (``StartAfter``) and runs to the end.
Every key is listed exactly once (the first range keeps the keys up to the cut, the second starts
after it), and since only the first range's last page can run past its end, the split costs at
most one request more than the flat chain, wherever the cut falls.  The range after the cut starts
once the first range's first page says there is more: a tree of up to 2,000 keys never pays for it.

Where the cut falls decides how much the two ranges overlap in time; it is chosen from what is
known without asking (:func:`choose_cut`): the folders still to come when a listing of the prefix
is cached (the middle one), else the keys of the first page.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..prefetch import offer

__all__ = ["PAGES_AHEAD", "REACHED_CUT", "choose_cut", "continue_listing", "side_by_side", "tree_pages"]

PAGES_AHEAD = 64
REACHED_CUT = "TfmReachedCut"  # marks a range's last page: it ran into the keys after the cut
_DONE = object()
Page = Mapping[str, Any]
# The last character of each class of characters keys are commonly numbered or named with.
_CLASS_ENDS = (("0", "9"), ("a", "z"), ("A", "Z"))


def tree_pages(client: Any, bucket: str, prefix: str, folders: Iterable[str] = ()) -> Iterator[Page]:
    """Pages holding every key below ``prefix`` (in no particular order across the two ranges).

    ``folders`` names sub-folders of ``prefix`` known to exist (from a cached listing), if any.
    """
    first = client.call("list_objects_v2", Bucket=bucket, Prefix=prefix)
    yield first
    contents = first.get("Contents", [])
    if first.get("IsTruncated") and contents:
        yield from continue_listing(client, bucket, prefix, contents, folders)


def continue_listing(client: Any, bucket: str, prefix: str, seen: list[Any],
                     folders: Iterable[str] = ()) -> Iterator[Page]:
    """The rest of a truncated listing below ``prefix`` whose first page held ``seen``."""
    last = seen[-1]["Key"]
    cut = choose_cut(prefix, [item["Key"] for item in seen], folders)
    if cut is None:
        yield from client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, StartAfter=last)
        return
    ahead = _range_pages(client, bucket, prefix, last, cut)
    first = next(ahead)
    yield first
    if first.get("IsTruncated"):  # more before the cut: the keys after it are listed beside them
        yield from side_by_side([lambda: ahead, lambda: _range_pages(client, bucket, prefix, cut, None)])
    elif first.get(REACHED_CUT):
        yield from _range_pages(client, bucket, prefix, cut, None)


def choose_cut(prefix: str, keys: list[str], folders: Iterable[str] = ()) -> str | None:
    """Where to split the keys after ``keys`` (a first page, sorted) below ``prefix``; None: don't.

    With sub-folders known to follow the page, the middle one of them.  Otherwise from the page:
    at the first character where its first and last keys differ (moving left while the last key
    has reached the end of that character's class), half-way from the last key's character to
    the class's end (``k-000000…k-001999`` → ``k-004~``, just below ``k-005``).  A page that lies
    within one folder tells nothing about the keys after that folder, so the folder's name is split
    instead (``f01/…`` → ``f04~``).
    """
    last = keys[-1]
    after = sorted(prefix + name for name in folders if prefix + name + "/" > last)
    if len(after) >= 2:
        return _just_below(after[len(after) // 2])
    first, last = keys[0][len(prefix):], last[len(prefix):]
    differ = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    folder = last.find("/")
    if 0 <= folder < differ:  # one folder holds the whole page: split the folders' names
        differ = folder
        last = last[:folder]
    return next((_just_below(prefix + last[:position] + middle)
                 for position in range(min(differ, len(last) - 1), -1, -1)
                 if (middle := _halfway_up(last[position])) is not None), None)


def _just_below(text: str) -> str:
    """A cut just below ``text`` that names no folder: ``f05`` → ``f04~``.

    S3 compares ``StartAfter`` with keys as strings, but some S3-compatible servers (SeaweedFS) treat
    a ``StartAfter`` that equals a folder's name as that folder, and skip every key in it.
    """
    return text[:-1] + chr(ord(text[-1]) - 1) + "~"


def _halfway_up(char: str) -> str | None:
    """The character half-way from ``char`` (exclusive) to the end of its class; None at the end."""
    for start, end in _CLASS_ENDS:
        if start <= char < end:
            return chr((ord(char) + 1 + ord(end)) // 2)
    return None


def _range_pages(client: Any, bucket: str, prefix: str, after: str, until: str | None) -> Iterator[Page]:
    """The pages of keys below ``prefix`` in (``after``, ``until``], cut short at ``until``."""
    for page in client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, StartAfter=after):
        contents = page.get("Contents", [])
        if until is None or not contents or contents[-1]["Key"] <= until:
            yield page
            continue
        kept = [item for item in contents if item["Key"] <= until]
        yield {**page, "Contents": kept, "IsTruncated": False, REACHED_CUT: True}
        return  # the rest belongs to the range after the cut


def side_by_side(ranges: list[Callable[[], Iterator[Page]]]) -> Iterator[Page]:
    """The pages of several listings as they arrive, each listing on its own thread.

    At most a few pages wait to be taken (a consumer that is slower than the listing holds the
    listing back, it does not pile it up in memory); a consumer that stops early stops the threads
    at their next page.
    """
    arrived: queue.Queue[Any] = queue.Queue(maxsize=PAGES_AHEAD)
    stop = threading.Event()

    def list_range(pages: Callable[[], Iterator[Page]]) -> None:
        try:
            for page in pages():
                if not offer(arrived, page, stop):
                    return
            offer(arrived, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(arrived, exc, stop)

    with ThreadPoolExecutor(len(ranges), thread_name_prefix="tfm-list") as pool:
        try:
            for pages in ranges:  # each thread inherits the caller's cancel scope
                pool.submit(contextvars.copy_context().run, list_range, pages)
            running = len(ranges)
            while running:
                item = arrived.get()
                if item is _DONE:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            stop.set()
