"""A big tree copied S3→S3 at latency: copying while listing, against listing first.

Run by ``python -m benchmarks.latency`` (``--pipeline-keys``, 0 skips it), on npm's s3rver behind
the delay proxy: moto's server scans the whole bucket for every listing page, which would make
its CPU, not the round trips, decide how long the listing takes.  Reports the total time and the
time until the first object was copied (from the progress callback, or for the script the moment
its first copy returned).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from .latency import BUCKET, boto_client, each, keys_below, seeded_s3rver, tfm

FOLDERS = 100  # many small folders: the flat chain of pages, one after the other


class FirstCopy:
    """Remembers when the first file arrived, relative to ``started``."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds: float | None = None
        self._lock = threading.Lock()

    def arrived(self) -> None:
        with self._lock:
            if self.seconds is None:
                self.seconds = time.perf_counter() - self.started

    def progress(self, done: int, total: int, files: int, files_total: int) -> None:
        if done or files:  # s3transfer reports a copy's bytes as it ends
            self.arrived()


def tfm_pipelined(url: str, target: str, first: FirstCopy) -> None:
    tfm(url).Path(f"s3://{BUCKET}/big").copy(f"s3://{BUCKET}/{target}", progress=first.progress)


def tfm_listing_first(url: str, target: str, first: FirstCopy) -> None:
    from tfm_jupyter import transfer

    tfm(url)
    plan = transfer.plan_copy(f"s3://{BUCKET}/big", f"s3://{BUCKET}/{target}", stream=False)
    transfer.execute(plan, progress=first.progress)


def boto3_listing_first(url: str, target: str, first: FirstCopy) -> None:
    client = boto_client(url, 32)

    def copy(key: str) -> None:
        source = {"Bucket": BUCKET, "Key": key}
        client.copy_object(Bucket=BUCKET, Key=f"{target}/{key[len('big/'):]}", CopySource=source)
        first.arrived()

    each(32, copy, keys_below(client, "big/"))


IMPLEMENTATIONS: dict[str, Callable[[str, str, FirstCopy], None]] = {
    "ThreadPoolExecutor(32) + boto3, listing first": boto3_listing_first,
    "tfm_jupyter, listing first (`plan_copy(stream=False)`)": tfm_listing_first,
    "tfm_jupyter (copies while listing)": tfm_pipelined,
}


def pipeline_rows(delay: float, keys: int, runs: int, work: Path) -> dict[str, tuple[float, float]]:
    """(best total seconds, its time to the first copy) of each implementation copying ``keys`` keys."""
    names = [f"big/folder-{i % FOLDERS:03d}/key-{i:06d}" for i in range(keys)]
    with seeded_s3rver(work, delay, names, b"x" * 100) as url:
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in IMPLEMENTATIONS}
        for attempt in range(runs):  # interleaved, as the other workloads
            for number, (name, run) in enumerate(IMPLEMENTATIONS.items()):
                target = f"copy-{number}-{attempt}"
                first = FirstCopy()
                run(url, target, first)
                results[name].append((time.perf_counter() - first.started, first.seconds or 0.0))
                assert len(keys_below(boto_client(url), f"{target}/")) == keys
        rows = {name: min(times) for name, times in results.items()}
        for name, (total, first_copy) in rows.items():
            print(f"copy {keys} keys  {name:56} {total:7.2f} s (first copy after {first_copy:.2f} s)", flush=True)
        return rows


def pipeline_lines(rows: dict[str, tuple[float, float]], keys: int, delay_ms: float) -> list[str]:
    """The Markdown section for RESULTS-latency.md."""
    return ["", f"Copying {keys:,} keys of 100 bytes in {FOLDERS} folders S3→S3 on npm's s3rver, {delay_ms:.0f} ms "
            "added to every request (the listing is a chain of pages):", "",
            "| implementation | total | first object copied after |", "|---|---|---|",
            *(f"| {name} | {total:.2f} s | {first:.2f} s |" for name, (total, first) in rows.items())]

