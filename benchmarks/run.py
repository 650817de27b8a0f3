"""Run every benchmark against one local S3 server and write benchmarks/RESULTS.md.

    python -m benchmarks.run [--runs 3] [--big-mib 512] [--only 1,4,T2] [--no-widget]

Each (workload, implementation) pair runs ``--runs`` times, each time with a fresh client and a
cold cache; requests are counted at the server by operation; times are medians, reported as a
ratio to the hand-written boto3 version measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .impls import IMPLEMENTATIONS, Context, available
from .workloads import WORKLOADS, Workload

HERE = Path(__file__).resolve().parent
AWS_CANDIDATES = [os.environ.get("TFM_BENCH_AWS", ""), str(HERE.parent / ".venv-awscli" / "bin" / "aws"),
                  shutil.which("aws") or ""]


class RemoteServer:
    """The S3 server in its own process (``benchmarks.serve``), driven through its control API."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.serve"], stdout=subprocess.PIPE,
                                        cwd=HERE.parent, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.endpoint_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def control(self, route: str, **query: str) -> Any:
        url = f"{self.endpoint_url}/_tfm/{route}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=600) as response:
            return json.loads(response.read())

    def snapshot(self) -> Counter:
        return Counter(self.control("counts"))

    @contextlib.contextmanager
    def counting(self) -> Any:
        before = self.snapshot()
        counts: Counter = Counter()
        try:
            yield counts
        finally:
            counts.update(self.snapshot() - before)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@dataclass
class Data:
    workdir: Path
    big_file: Path
    aws: str | None
    server: RemoteServer

    def count(self, bucket: str, prefix: str) -> int:
        return self.server.control("count", bucket=bucket, prefix=prefix)["count"]


@dataclass
class Measurement:
    requests: Counter = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)
    result: Any = None
    consistent: bool = True
    peak_memory: int | None = None
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")


def _state(impl_name: str, endpoint: str) -> Any:
    if impl_name == "aws s3 cp":
        return None
    impl = next(i for i in IMPLEMENTATIONS if i.name == impl_name)
    return impl(endpoint)


def _installed(impl_name: str, data: Data) -> bool:
    if impl_name == "aws s3 cp":
        return data.aws is not None
    return available(next(i for i in IMPLEMENTATIONS if i.name == impl_name))


def _prepare(workload: Workload, server: RemoteServer, bucket: str, data: Data) -> None:
    for prefix in workload.clean:
        server.control("remove", bucket=bucket, prefix=prefix)
    if workload.reset:
        workload.reset(data)


def measure(workload: Workload, impl_name: str, server: RemoteServer, bucket: str, data: Data, runs: int,
            memory: bool) -> Measurement:
    run = workload.runs[impl_name]
    result = Measurement()
    for attempt in range(runs):
        _prepare(workload, server, bucket, data)
        ctx = Context(server.endpoint_url, bucket, impl_name, _state(impl_name, server.endpoint_url), data)
        with server.counting() as counts:
            started = time.perf_counter()
            value = run(ctx)
            result.times.append(time.perf_counter() - started)
        if attempt == 0:
            result.requests, result.result = counts, value
        else:
            result.consistent &= (counts == result.requests)
    if memory:
        _prepare(workload, server, bucket, data)
        ctx = Context(server.endpoint_url, bucket, impl_name, _state(impl_name, server.endpoint_url), data)
        tracemalloc.start()
        run(ctx)
        result.peak_memory = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


def run_all(args: argparse.Namespace) -> dict[str, dict[str, Measurement]]:
    workdir = Path(tempfile.mkdtemp(prefix="tfm-bench-"))
    big = workdir / "big.bin"
    with open(big, "wb") as handle:
        for _ in range(args.big_mib):
            handle.write(os.urandom(2**20))
    aws = next((c for c in AWS_CANDIDATES if c and os.path.exists(c)), None)
    results: dict[str, dict[str, Measurement]] = {}
    server = RemoteServer()
    try:
        data = Data(workdir, big, aws, server)
        for workload in WORKLOADS:
            if args.only and workload.number not in args.only:
                continue
            bucket = f"bench-{workload.number.lower()}"
            server.control("seed", workload=workload.number, bucket=bucket)
            if workload.setup:
                workload.setup(data)
            results[workload.number] = {}
            for impl_name in workload.runs:
                if not _installed(impl_name, data):
                    continue
                print(f"workload {workload.number}: {impl_name} ...", end=" ", flush=True)
                try:
                    measurement = measure(workload, impl_name, server, bucket, data, args.runs,
                                          memory=workload.number == "1")
                except Exception as exc:  # a peer that cannot do this workload: reported, not hidden
                    measurement = Measurement(error=f"{type(exc).__name__}: {str(exc)[:120]}")
                results[workload.number][impl_name] = measurement
                print(measurement.error or f"{measurement.median:.3f} s, {sum(measurement.requests.values())} requests")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _versions() -> str:
    names = ["boto3", "botocore", "s3transfer", "moto", "tfm_jupyter", "cloudpathlib", "s3path",
             "universal_pathlib", "s3fs"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _requests_cell(m: Measurement) -> str:
    if m.error:
        return "—"
    return f"{sum(m.requests.values()):,}"


def render(results: dict[str, dict[str, Measurement]], args: argparse.Namespace, widget: list[str]) -> str:
    impl_names = ["boto3", "tfm_jupyter", "cloudpathlib", "s3path", "universal-pathlib", "s3fs", "aws s3 cp"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.date.today().isoformat()} by `python -m benchmarks.run --runs {args.runs} "
        f"--big-mib {args.big_mib}` on one machine ({os.cpu_count()} cores, Python {platform.python_version()}), "
        "against moto's S3 server on loopback, in its own process (as S3 would be), counting requests by "
        "operation. "
        f"Versions: {_versions()}.",
        "",
        "Every run builds a fresh client with a cold cache. Times are medians of "
        f"{args.runs} runs, shown as a ratio to the hand-written boto3 version of the same workload measured "
        "in the same run (lower is better; < 1 is faster than boto3). Absolute times mostly measure moto, "
        "which spends milliseconds of CPU per request; the request counts are what S3 bills and what "
        "latency multiplies.",
        "",
        "## Requests per workload",
        "",
        "| workload | " + " | ".join(impl_names) + " |",
        "|---|" + "---|" * len(impl_names),
    ]
    titles = {w.number: w.title for w in WORKLOADS}
    for number, row in results.items():
        cells = [(_requests_cell(row[n]) if n in row else "n/a") for n in impl_names]
        lines.append(f"| {number}. {titles[number]} | " + " | ".join(cells) + " |")
    lines += ["", "## Time as a ratio to boto3 (median)", "",
              "| workload | boto3 (seconds) | " + " | ".join(impl_names[1:]) + " |",
              "|---|---|" + "---|" * (len(impl_names) - 1)]
    for number, row in results.items():
        base = row.get("boto3")
        cells = []
        for name in impl_names[1:]:
            m = row.get(name)
            if m is None:
                cells.append("n/a")
            elif m.error:
                cells.append("failed")
            else:
                ratio = f"{m.median / base.median:.2f}\N{MULTIPLICATION SIGN}"
                cells.append(ratio if base and not base.error else f"{m.median:.2f} s")
        lines.append(f"| {number} | {base.median:.3f} | " + " | ".join(cells) + " |" if base else
                     f"| {number} | — | " + " | ".join(cells) + " |")
    if "1" in results:
        lines += ["", "## Peak Python memory of workload 1 (tracemalloc)", "", "| implementation | peak |", "|---|---|"]
        for name, m in results["1"].items():
            if m.peak_memory is not None:
                lines.append(f"| {name} | {m.peak_memory / 2**20:.1f} MiB |")
    lines += ["", "## Details", ""]
    for number, row in results.items():
        lines += [f"### {number}. {titles[number]}", "", "| implementation | requests by operation | median | result |",
                  "|---|---|---|---|"]
        for name, m in row.items():
            if m.error:
                lines.append(f"| {name} | — | — | failed: {m.error} |")
                continue
            ops = ", ".join(f"{op} {count:,}" for op, count in sorted(m.requests.items()))
            flag = "" if m.consistent else " (counts varied between runs)"
            lines.append(f"| {name} | {ops}{flag} | {m.median:.3f} s | `{m.result}` |")
        lines.append("")
    if widget:
        lines += ["## 9. The browser widget in headless chromium", "", *widget, ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-mib", type=int, default=512, help="size of workload 6's file")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None)
    parser.add_argument("--no-widget", action="store_true")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    if args.runs < 3:
        print("note: fewer than 3 runs per measurement", file=sys.stderr)
    results = run_all(args)
    widget: list[str] = []
    if not args.no_widget and (not args.only or "9" in args.only):
        from .widget import widget_benchmark

        widget = widget_benchmark(args.runs)
    Path(args.output).write_text(render(results, args, widget), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
