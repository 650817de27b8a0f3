"""Bulk work at real-S3 latency: every request goes through a proxy that adds a fixed delay.

    python -m benchmarks.latency [--delay-ms 50] [--objects 400] [--runs 1]

The S3 server (moto, in its own process) sits behind the tests' fault proxy (also in its own
process) with a ``delay`` rule on every request, so the time is the latency's, not the loopback's.
Workloads: download / upload / S3->S3 copy of a tree of small objects in 8 folders, and a content
search of all of them; implementations: tfm_jupyter, a plain boto3 loop, boto3 on 32 threads,
``aws s3`` and s5cmd (each when installed).  Then, on npm's s3rver: listing 20,000 keys in 20
folders, and copying 5,000 keys while listing against listing first (:mod:`.pipelined`).  Writes
``benchmarks/RESULTS-latency.md``: seconds, requests counted at the server, and each time as a
ratio to the faster of s5cmd and 32 threads.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .run import AWS_CANDIDATES, RemoteServer

HERE = Path(__file__).resolve().parent
BUCKET = "latency"
KEY_ID, SECRET = "bench-key", "bench-secret"
NEEDLE = "needle-that-no-file-holds"


class DelayProxy:
    """The fault proxy of tests/ in its own process, delaying every request by ``delay`` seconds."""

    def __init__(self, upstream: str, delay: float):
        code = ("import sys, threading; sys.path.insert(0, 'tests'); from fault_proxy import FaultProxy, Rule\n"
                f"p = FaultProxy({upstream!r}).__enter__(); p.add(Rule(action='delay', seconds={delay}))\n"
                "print('URL', p.url, flush=True); threading.Event().wait()")
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                        cwd=HERE.parent)
        self.url = self.process.stdout.readline().split()[1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


CREDENTIALS = {"key": KEY_ID, "secret": SECRET}  # s3rver's differ: it refuses unknown key ids


def _env() -> dict[str, str]:
    return dict(os.environ, AWS_ACCESS_KEY_ID=CREDENTIALS["key"], AWS_SECRET_ACCESS_KEY=CREDENTIALS["secret"],
                AWS_DEFAULT_REGION="us-east-1")


def boto_client(url: str, pool: int = 10) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=url, aws_access_key_id=CREDENTIALS["key"],
                        aws_secret_access_key=CREDENTIALS["secret"], region_name="us-east-1",
                        config=Config(max_pool_connections=pool, s3={"addressing_style": "path"}))


def keys_below(client: Any, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", ())]


def each(threads: int, function: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    if threads == 1:
        return [function(item) for item in items]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, items))


# -- the hand-written boto3 versions (a loop, or the same on 32 threads) ---------------------------------


def boto3_download(url: str, target: Path, threads: int) -> None:
    client = boto_client(url, max(10, threads))

    def get(key: str) -> None:
        path = target / key[len("tree/"):]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    each(threads, get, keys_below(client, "tree/"))


def boto3_upload(url: str, source: Path, threads: int) -> None:
    client = boto_client(url, max(10, threads))
    files = [p for p in source.rglob("*") if p.is_file()]
    each(threads, lambda p: client.put_object(Bucket=BUCKET, Key=f"up/{p.relative_to(source).as_posix()}",
                                               Body=p.read_bytes()), files)


def boto3_copy(url: str, threads: int) -> None:
    client = boto_client(url, max(10, threads))
    each(threads, lambda key: client.copy_object(Bucket=BUCKET, Key="copy/" + key[len("tree/"):],
                                                 CopySource={"Bucket": BUCKET, "Key": key}),
         keys_below(client, "tree/"))


def boto3_search(url: str, threads: int) -> list[str]:
    client = boto_client(url, max(10, threads))

    def holds(key: str) -> bool:
        return NEEDLE in client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8", "replace")

    keys = keys_below(client, "tree/")
    return [key for key, hit in zip(keys, each(threads, holds, keys), strict=True) if hit]


BOTO3_PLANE = "tfm_jupyter, data_plane=boto3"

# -- tfm_jupyter ---------------------------------------------------------------------------------------


def tfm(url: str, plane: str = "auto") -> Any:
    """tfm_jupyter configured for ``url``; ``plane`` sends small files' requests ("boto3": botocore,
    "auto": the obstore data plane)."""
    import tfm_jupyter
    from tfm_jupyter.s3 import client

    client.reset_s3_configuration()
    tfm_jupyter.configure_s3(endpoint_url=url, region="us-east-1", aws_access_key_id=CREDENTIALS["key"],
                             aws_secret_access_key=CREDENTIALS["secret"], addressing_style="path",
                             small_file_concurrency=int(os.environ.get("TFM_BENCH_CONCURRENCY", "32")),
                             data_plane=plane)
    tfm_jupyter.clear_s3_cache()
    return tfm_jupyter


def tfm_download(url: str, target: Path, plane: str = "auto") -> None:
    tfm(url, plane).Path(f"s3://{BUCKET}/tree").copy(target, progress=False)


def tfm_upload(url: str, source: Path, plane: str = "auto") -> None:
    tfm(url, plane).Path(source).copy(f"s3://{BUCKET}/up", progress=False)


def tfm_copy(url: str, plane: str = "auto") -> None:
    tfm(url, plane).Path(f"s3://{BUCKET}/tree").copy(f"s3://{BUCKET}/copy", progress=False)


def tfm_search(url: str) -> list[str]:
    return [str(p) for p in tfm(url).find(f"s3://{BUCKET}/tree", contains=NEEDLE, progress=False)]


# -- command-line tools -----------------------------------------------------------------------------------


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, env=_env(), stdout=subprocess.DEVNULL)


def aws(url: str, *args: str) -> None:
    tool = next((c for c in AWS_CANDIDATES if c and os.access(c, os.X_OK)), None)
    quiet = ["--only-show-errors"] if args[0] == "cp" else []  # `aws s3 ls` has no such option
    _run([tool, "s3", *args, "--endpoint-url", url, *quiet])


def s5cmd(url: str, *args: str) -> None:
    _run([shutil.which("s5cmd") or str(Path(sys.executable).parent / "s5cmd"), "--endpoint-url", url, *args])


def workloads(url: str, local: Path, out: Path) -> dict[str, dict[str, Callable[[], Any]]]:
    """What each implementation runs for each workload (``out`` is emptied before every run)."""
    tree = f"s3://{BUCKET}/tree"
    return {
        "download the tree S3→local": {
            "plain boto3 loop": lambda: boto3_download(url, out, 1),
            "ThreadPoolExecutor(32) + boto3": lambda: boto3_download(url, out, 32),
            "tfm_jupyter": lambda: tfm_download(url, out),
            BOTO3_PLANE: lambda: tfm_download(url, out, "boto3"),
            "aws s3": lambda: aws(url, "cp", "--recursive", tree, str(out)),
            "s5cmd": lambda: s5cmd(url, "cp", f"{tree}/*", f"{out}/"),
        },
        "upload the tree local→S3": {
            "plain boto3 loop": lambda: boto3_upload(url, local, 1),
            "ThreadPoolExecutor(32) + boto3": lambda: boto3_upload(url, local, 32),
            "tfm_jupyter": lambda: tfm_upload(url, local),
            BOTO3_PLANE: lambda: tfm_upload(url, local, "boto3"),
            "aws s3": lambda: aws(url, "cp", "--recursive", str(local), f"s3://{BUCKET}/up"),
            "s5cmd": lambda: s5cmd(url, "cp", f"{local}/*", f"s3://{BUCKET}/up/"),
        },
        "copy the tree S3→S3": {
            "plain boto3 loop": lambda: boto3_copy(url, 1),
            "ThreadPoolExecutor(32) + boto3": lambda: boto3_copy(url, 32),
            "tfm_jupyter": lambda: tfm_copy(url),
            BOTO3_PLANE: lambda: tfm_copy(url, "boto3"),
            "aws s3": lambda: aws(url, "cp", "--recursive", tree, f"s3://{BUCKET}/copy"),
            "s5cmd": lambda: s5cmd(url, "cp", f"{tree}/*", f"s3://{BUCKET}/copy/"),
        },
        "content search (`find(contains=)`)": {
            "plain boto3 loop": lambda: boto3_search(url, 1),
            "ThreadPoolExecutor(32) + boto3": lambda: boto3_search(url, 32),
            "tfm_jupyter": lambda: tfm_search(url),
        },
    }


# -- listing 20,000 keys in 20 folders, on s3rver ---------------------------------------------------------------


def list_paginator(url: str) -> int:
    return len(keys_below(boto_client(url), "list/"))


def list_fanout(url: str) -> int:
    """The hand-written fan-out: one delimiter listing, then every folder on its own thread."""
    client = boto_client(url, 32)
    folders = [c["Prefix"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="list/", Delimiter="/") for c in page.get("CommonPrefixes", ())]
    return sum(each(len(folders), lambda folder: len(keys_below(client, folder)), folders))


def list_tfm(url: str) -> int:
    library = tfm(url)
    return sum(1 for _, _, files in library.Path(f"s3://{BUCKET}/list").walk() for _ in files)


class S3rver:
    """npm's s3rver (``S3RVER_BIN``, or node_modules/.bin/s3rver) on a free port, its data in a temp folder."""

    def __init__(self, directory: Path):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        binary = os.environ.get("S3RVER_BIN") or str(HERE.parent / ".bench-node" / "node_modules" / ".bin" / "s3rver")
        # s3rver 3 makes continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.process = subprocess.Popen([binary, "-d", str(directory), "-a", "127.0.0.1", "-p", str(self.port),
                                         "-s", "--configure-bucket", BUCKET], stdout=subprocess.DEVNULL, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("s3rver did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def listing_rows(delay: float, keys: int, folders: int, runs: int, work: Path) -> dict[str, tuple[float, int]]:
    """Times of listing ``keys`` keys in ``folders`` folders on s3rver (best of ``runs``, interleaved)."""
    names = [f"list/folder-{i % folders:02d}/key-{i:06d}" for i in range(keys)]
    with seeded_s3rver(work, delay, names, b"") as url:
        runs_of: dict[str, Callable[[str], int] | None] = {
            "plain paginator": list_paginator, "hand-written fan-out (20 threads)": list_fanout,
            "tfm_jupyter": list_tfm, **({"aws s3 ls --recursive": None} if installed("aws s3") else {})}
        times: dict[str, list[float]] = {name: [] for name in runs_of}
        for _ in range(runs):
            for name, run in runs_of.items():
                started = time.perf_counter()
                if run is None:
                    aws(url, "ls", "--recursive", f"s3://{BUCKET}/list/")
                else:
                    assert run(url) == keys
                times[name].append(time.perf_counter() - started)
        for name in runs_of:
            print(f"list {keys} keys in {folders} folders  {name:34} {min(times[name]):7.2f} s", flush=True)
        return {name: (min(times[name]), 0) for name in runs_of}


IMPLS = ["plain boto3 loop", "ThreadPoolExecutor(32) + boto3", "tfm_jupyter", BOTO3_PLANE, "aws s3", "s5cmd"]


def installed(name: str) -> bool:
    if name == "aws s3":
        return any(c and os.access(c, os.X_OK) for c in AWS_CANDIDATES)
    if name == "s5cmd":
        return bool(shutil.which("s5cmd") or (Path(sys.executable).parent / "s5cmd").exists())
    return True


def seed(server: RemoteServer, direct: Any, objects: int, local: Path) -> None:
    direct.create_bucket(Bucket=BUCKET)
    body = (b"log line without the word\n" * 160)[:4096]
    for i in range(objects):
        key = f"folder-{i % 8}/object-{i:05d}.txt"
        direct.put_object(Bucket=BUCKET, Key=f"tree/{key}", Body=body)
        path = local / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


SLOW = "plain boto3 loop"  # ~60x slower than the others and in no ratio: measured once


def measure(name: str, server: RemoteServer, impls: dict[str, Callable[[], Any]], args: Any, out: Path
            ) -> dict[str, tuple[float, Counter]]:
    """Best time and the request counts of each implementation; the runs are interleaved (one round
    runs each once), so a slow minute of the machine does not fall on one implementation only."""
    chosen = {impl: run for impl, run in impls.items()
              if installed(impl) and not (args.only and impl not in args.only.split(","))}
    times: dict[str, list[float]] = {impl: [] for impl in chosen}
    counted: dict[str, Counter] = {}
    for attempt in range(args.runs):
        for impl, run in chosen.items():
            if impl == SLOW and attempt:
                continue
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            for prefix in ("up/", "copy/"):
                server.control("remove", bucket=BUCKET, prefix=prefix)
            with server.counting() as counts:
                started = time.perf_counter()
                run()
                times[impl].append(time.perf_counter() - started)
            counted[impl] = counts
    for impl in chosen:
        print(f"{name:40} {impl:32} {min(times[impl]):7.2f} s  {sum(counted[impl].values()):5} requests",
              flush=True)
    return {impl: (min(times[impl]), counted[impl]) for impl in chosen}


@contextlib.contextmanager
def seeded_s3rver(work: Path, delay: float, keys: list[str], body: bytes) -> Iterator[str]:
    """npm's s3rver holding ``keys``, behind the delay proxy: yields the proxy's URL."""
    CREDENTIALS.update(key="S3RVER", secret="S3RVER")
    server = S3rver(work / f"s3rver-{len(list(work.glob('s3rver-*')))}")
    proxy = DelayProxy(server.url, delay)
    try:
        direct = boto_client(server.url, 32)
        each(32, lambda key: direct.put_object(Bucket=BUCKET, Key=key, Body=body), keys)
        yield proxy.url
    finally:
        proxy.stop()
        server.stop()
        CREDENTIALS.update(key=KEY_ID, secret=SECRET)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--objects", type=int, default=400)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated implementation names")
    parser.add_argument("--listing-keys", type=int, default=20_000, help="0 skips the s3rver listing")
    parser.add_argument("--pipeline-keys", type=int, default=5_000, help="0 skips the big S3→S3 copy on s3rver")
    args = parser.parse_args(argv)
    server = RemoteServer()
    proxy = DelayProxy(server.endpoint_url, args.delay_ms / 1000)
    work = Path(tempfile.mkdtemp(prefix="tfm-latency-"))
    try:
        local, out = work / "local", work / "out"
        seed(server, boto_client(server.endpoint_url), args.objects, local)
        rows = {name: measure(name, server, impls, args, out)
                for name, impls in workloads(proxy.url, local, out).items()}
        listing = listing_rows(args.delay_ms / 1000, args.listing_keys, 20, args.runs, work) if (
            args.listing_keys) else {}
        pipelined: list[str] = []
        if args.pipeline_keys:
            from .pipelined import pipeline_lines, pipeline_rows

            pipelined = pipeline_lines(pipeline_rows(args.delay_ms / 1000, args.pipeline_keys, min(args.runs, 3), work),
                                       args.pipeline_keys, args.delay_ms)
        write_results(rows, listing, args, pipelined)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def write_results(rows: dict[str, dict[str, tuple[float, Counter]]], listing: dict[str, tuple[float, int]],
                  args: Any, more: list[str]) -> None:
    lines = [f"# Latency benchmark: {args.objects} objects of 4 KiB in 8 folders, {args.delay_ms:.0f} ms added to "
             "every request", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, by `python -m benchmarks.latency` (best of {args.runs} "
             "interleaved rounds; the plain loop once). Requests are "
             "counted at the server. **ratio** is tfm_jupyter's time over the faster of s5cmd and the 32-thread "
             "script. tfm_jupyter sends small files' requests through its data plane (obstore); "
             f"*{BOTO3_PLANE}* is the same code with botocore sending them.", "",
             "| work | " + " | ".join(IMPLS) + " | ratio | requests (tfm_jupyter) |",
             "|---" * (len(IMPLS) + 3) + "|"]
    for name, results in rows.items():
        cells = [f"{results[i][0]:.2f} s" if i in results else "—" for i in IMPLS]
        best = min(results[i][0] for i in ("ThreadPoolExecutor(32) + boto3", "s5cmd") if i in results)
        ratio = results["tfm_jupyter"][0] / best if "tfm_jupyter" in results else float("nan")
        requests = sum(results["tfm_jupyter"][1].values()) if "tfm_jupyter" in results else 0
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f}x | {requests} |")
    if listing:
        fanout = listing["hand-written fan-out (20 threads)"][0]
        lines += ["", f"Listing {args.listing_keys:,} keys in 20 folders on npm's s3rver (moto's server scans the "
                  "whole bucket for every page under one lock, so there no client lists faster in parallel), "
                  f"{args.delay_ms:.0f} ms added to every request; **ratio** is over the hand-written fan-out:", "",
                  "| implementation | time | ratio |", "|---|---|---|"]
        lines += [f"| {name} | {seconds:.2f} s | {seconds / fanout:.2f}x |" for name, (seconds, _) in listing.items()]
    (HERE / "RESULTS-latency.md").write_text("\n".join(lines + more) + "\n")


if __name__ == "__main__":
    sys.exit(main())
