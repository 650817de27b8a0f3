"""Beyond one machine: key-range listing at real-S3 latency, and 100,000 keys copied by threads in one
process against a two-worker Dask ``LocalCluster``.

    python -m benchmarks.scale [--delay-ms 50] [--listing-keys 20000] [--copy-keys 100000] [--runs 3]

*Listing*: npm's s3rver holding 20,000 keys in 20 folders of 1,000 behind the delay proxy (as in
:mod:`.latency`): the plain paginator, a hand-written fan-out (a delimiter listing, then a thread per
folder) and tfm_jupyter (page 1, then two key ranges side by side); requests counted by each client
(botocore's ``before-send``, tfm_jupyter's own meter), best of ``runs`` interleaved.

*Copy*: SeaweedFS (``weed server -s3``, as in :mod:`.cpu`; moto copies ~120 objects a second, too few
for 100,000), S3→S3 within one bucket, ``Path.copy`` with its threads against
``Path.copy(engine=client)`` on ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)``;
requests counted by tfm_jupyter's meter in this process and in every worker.  Both run on this
machine's two cores, next to the server.  Writes ``benchmarks/RESULTS-scale.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .latency import BUCKET, CREDENTIALS, boto_client, each, seeded_s3rver

HERE = Path(__file__).resolve().parent


def counted(client: Any, counts: Counter) -> Any:
    client.meta.events.register("before-send.s3.*", lambda request, **_: counts.update(["request"]))
    return client


def list_paginator(url: str, counts: Counter) -> int:
    client = counted(boto_client(url), counts)
    return sum(len(page.get("Contents", ())) for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="list/"))


def list_fanout(url: str, counts: Counter) -> int:
    """A delimiter listing names the folders, then each is listed on its own thread."""
    client = counted(boto_client(url, 32), counts)
    pages = client.get_paginator("list_objects_v2")
    folders = [c["Prefix"] for page in pages.paginate(Bucket=BUCKET, Prefix="list/", Delimiter="/")
               for c in page.get("CommonPrefixes", ())]
    return sum(each(len(folders), lambda folder: sum(len(page.get("Contents", ())) for page in pages.paginate(
        Bucket=BUCKET, Prefix=folder)), folders))


def list_tfm(url: str, counts: Counter) -> int:
    import tfm_jupyter
    from tfm_jupyter.s3.client import request_counts

    tfm_jupyter.configure_s3(endpoint_url=url, aws_access_key_id=CREDENTIALS["key"],
                             aws_secret_access_key=CREDENTIALS["secret"], region="us-east-1")
    tfm_jupyter.clear_s3_cache()
    before = request_counts()
    found = sum(1 for _, _, files in tfm_jupyter.Path(f"s3://{BUCKET}/list").walk() for _ in files)
    counts.update(["request"] * (request_counts() - before).total())
    return found


def listing(delay: float, keys: int, runs: int, work: Path) -> dict[str, tuple[float, int]]:
    names = [f"list/folder-{i % 20:02d}/key-{i:06d}" for i in range(keys)]
    methods = {"plain paginator": list_paginator, "hand-written fan-out (20 threads)": list_fanout,
               "tfm_jupyter (two key ranges)": list_tfm}
    times: dict[str, list[float]] = {name: [] for name in methods}
    requests: dict[str, int] = {}
    with seeded_s3rver(work, delay, names, b"") as url:
        for _ in range(runs):
            for name, method in methods.items():
                counts: Counter = Counter()
                started = time.perf_counter()
                assert method(url, counts) == keys
                times[name].append(time.perf_counter() - started)
                requests[name] = counts["request"]
    for name in methods:
        print(f"list {keys:,} keys  {name:36} {min(times[name]):6.2f} s  {requests[name]} requests", flush=True)
    return {name: (min(times[name]), requests[name]) for name in methods}


def copies(keys: int) -> dict[str, tuple[float, Counter]]:
    import distributed

    import tfm_jupyter
    from tfm_jupyter.s3.client import request_counts

    from .cpu import KEY_ID, SECRET, SeaweedFS
    from .cpu import boto_client as weed_client

    work = Path(tempfile.mkdtemp(prefix="tfm-scale-copy-"))
    server = SeaweedFS(work)
    results: dict[str, tuple[float, Counter]] = {}
    try:
        direct = weed_client(server.url, 32)
        direct.create_bucket(Bucket="scale")
        each(32, lambda i: direct.put_object(Bucket="scale", Key=f"src/f{i % 100:03d}/k{i:07d}", Body=b"x" * 100),
             list(range(keys)))
        tfm_jupyter.configure_s3(endpoint_url=server.url, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                 region="us-east-1")
        source = tfm_jupyter.Path("s3://scale/src")
        with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            def sent() -> Counter:  # this process's requests and every worker's, by operation
                return request_counts() + sum(client.run(request_counts).values(), Counter())

            for name, engine in (("threads, one process", None), ("Dask LocalCluster, 2 workers", client)):
                tfm_jupyter.clear_s3_cache()
                target = "dask" if engine else "threads"
                before = sent()
                started = time.perf_counter()
                source.copy(tfm_jupyter.Path(f"s3://scale/{target}"), engine=engine, progress=False)
                results[name] = (time.perf_counter() - started, sent() - before)
                copied = sum(len(page.get("Contents", ())) for page in direct.get_paginator("list_objects_v2").paginate(
                    Bucket="scale", Prefix=f"{target}/"))
                assert copied == keys, (name, copied)
                print(f"copy {keys:,} keys  {name:30} {results[name][0]:7.1f} s  {dict(results[name][1])}", flush=True)
    finally:
        server.stop()
    return results


def write(args: Any, listed: dict[str, tuple[float, int]], copied: dict[str, tuple[float, Counter]]) -> None:
    lines = ["# Beyond one machine", "", f"`python -m benchmarks.scale` on {platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}.", ""]
    if listed:
        fanout = listed["hand-written fan-out (20 threads)"][0]
        lines += [f"Listing {args.listing_keys:,} keys in 20 folders of {args.listing_keys // 20:,} on npm's s3rver, "
                  f"{args.delay_ms:g} ms added to every request, best of {args.runs}; **ratio** over the hand-written "
                  "fan-out; requests counted by each client:", "",
                  "| implementation | time | ratio | ListObjectsV2 |", "|---|---|---|---|"]
        lines += [f"| {name} | {seconds:.2f} s | {seconds / fanout:.2f}x | {requests} |"
                  for name, (seconds, requests) in listed.items()]
        lines.append("")
    if copied:
        lines += [f"Copying {args.copy_keys:,} keys of 100 bytes in 100 folders S3→S3 on SeaweedFS (loopback, no "
                  "added latency), requests counted by our meter in this process and in every worker:", "",
                  "| engine | wall | requests |", "|---|---|---|"]
        lines += [f"| {name} | {seconds:.1f} s | {', '.join(f'{op} {n:,}' for op, n in sorted(counts.items()) if n)} |"
                  for name, (seconds, counts) in copied.items()]
        lines.append("")
    (HERE / "RESULTS-scale.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--listing-keys", type=int, default=20_000, help="0 skips the listing")
    parser.add_argument("--copy-keys", type=int, default=100_000, help="0 skips the copy")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tfm-scale-") as work:
        listed = listing(args.delay_ms / 1000, args.listing_keys, args.runs, Path(work)) if args.listing_keys else {}
    copied = copies(args.copy_keys) if args.copy_keys else {}
    write(args, listed, copied)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
