"""A big tree's flat listing, folder by folder in parallel.

One flat ListObjectsV2 answers a tree of up to 1,000 keys in one request, and nothing is cheaper.
Beyond that a flat listing is a chain of requests, each waiting for the one before (at 50 ms a
round trip, 20,000 keys take a second).  So when the first page says there is more, and its
1,000 keys lie within one or two folders (so the folders are big), the folders below are listed
side by side instead: one delimiter listing names them, then each is listed flat on its own
thread, starting after the last key already seen.  It costs at most one request per sub-folder
(and one for the delimiter listing) more than the flat chain, and returns every key exactly once.
Many small folders keep the flat chain: there a request per folder would cost more than it saves.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..prefetch import offer

__all__ = ["FANOUT_WORKERS", "continue_listing", "pages_after", "tree_pages"]

FANOUT_WORKERS = 32
PAGES_AHEAD = 2 * FANOUT_WORKERS
_DONE = object()
Page = Mapping[str, Any]


def tree_pages(client: Any, bucket: str, prefix: str) -> Iterator[Page]:
    """Pages holding every key below ``prefix`` (in no particular order across folders)."""
    first = client.call("list_objects_v2", Bucket=bucket, Prefix=prefix)
    yield first
    contents = first.get("Contents", [])
    if first.get("IsTruncated") and contents:
        yield from continue_listing(client, bucket, prefix, contents)


def continue_listing(client: Any, bucket: str, prefix: str, seen: list[Any]) -> Iterator[Page]:
    """The rest of a truncated listing below ``prefix`` whose first page held ``seen``: folder by
    folder in parallel when those keys lie within one or two folders, else the flat chain."""
    last = seen[-1]["Key"]
    folders = {item["Key"][len(prefix):].partition("/")[0] for item in seen if "/" in item["Key"][len(prefix):]}
    if 1 <= len(folders) <= 2:
        yield from pages_after(client, bucket, prefix, last)
    else:
        yield from client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, StartAfter=last)


def pages_after(client: Any, bucket: str, prefix: str, last: str) -> Iterator[Page]:
    """Pages of the keys below ``prefix`` that sort after ``last`` (a key below ``prefix``)."""
    files: list[Any] = []
    folders: list[str] = []
    for page in client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix, Delimiter="/"):
        files.extend(item for item in page.get("Contents", ()) if item["Key"] > last)
        folders.extend(common["Prefix"] for common in page.get("CommonPrefixes", ()))
    yield {"Contents": files}
    todo = [(folder, last if last.startswith(folder) else None) for folder in folders
            if folder > last or last.startswith(folder)]  # a folder wholly before `last` was in the page seen
    if len(todo) < 2:  # nothing to do side by side: go on with the flat chain
        for folder, start in todo:
            yield from _folder_pages(client, bucket, folder, start)
        return
    yield from _side_by_side(client, bucket, todo)


def _side_by_side(client: Any, bucket: str, todo: list[tuple[str, str | None]]) -> Iterator[Page]:
    """The folders' pages as they arrive, from up to FANOUT_WORKERS threads.

    At most a few pages wait to be taken (a consumer that is slower than the listing holds the
    listing back, it does not pile it up in memory); a consumer that stops early stops the threads
    at their next page.
    """
    arrived: queue.Queue[Any] = queue.Queue(maxsize=PAGES_AHEAD)
    stop = threading.Event()

    def list_folder(folder: str, start: str | None) -> None:
        try:
            for page in _folder_pages(client, bucket, folder, start):
                if not offer(arrived, page, stop):
                    return
            offer(arrived, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(arrived, exc, stop)

    with ThreadPoolExecutor(min(FANOUT_WORKERS, len(todo)), thread_name_prefix="tfm-list") as pool:
        try:
            for folder, start in todo:  # each thread inherits the caller's cancel scope
                pool.submit(contextvars.copy_context().run, list_folder, folder, start)
            running = len(todo)
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


def _folder_pages(client: Any, bucket: str, folder: str, start: str | None) -> Iterator[Page]:
    params = {"Bucket": bucket, "Prefix": folder, **({"StartAfter": start} if start else {})}
    yield from client.paginate("list_objects_v2", **params)
