"""The library choice for Azure and GCS, measured: CPU per request and requests per operation.

    python -m benchmarks.clouds [--objects 300]

Against the emulators the tests use (npm's Azurite, fake-gcs-server), started and stopped here: the
official SDKs behind our backends (azure-storage-blob, google-cloud-storage) against one alternative
each - obstore (Rust's ``object_store``) for Azure, gcsfs (fsspec's, asynchronous) for GCS, since
obstore's GCS client path-encodes names in a way fake-gcs-server does not decode.  CPU: ``--objects``
4 KiB objects read one after another (user + system of this process per GET, best of 3 passes).
Requests per operation: counted at a proxy in front of the emulator, for a read, a stat, a listing of
the folder and a copy within the container.  Writes ``benchmarks/RESULTS-clouds.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
OPERATIONS = ("read", "stat", "list", "copy")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_get(read: Callable[[str], Any], names: list[str]) -> float:
    """ms of CPU per read, best of three passes."""
    best = float("inf")
    for _ in range(3):
        start = _cpu()
        for name in names:
            read(name)
        best = min(best, (_cpu() - start) * 1000 / len(names))
    return best


def counted(proxy: Any, operations: dict[str, Callable[[], Any]]) -> dict[str, int]:
    """Requests the proxy saw for each operation."""
    counts = {}
    for name, operation in operations.items():
        before = sum(proxy.requests.values())
        operation()
        counts[name] = sum(proxy.requests.values()) - before
    return counts


# -- ours: the Path API on a backend configured for ``url`` ------------------------------------------


def ours(scheme: str, container: str, url: str, azurite: Any) -> tuple[Callable, dict[str, Callable]]:
    from tfm_jupyter import Path as TPath
    from tfm_jupyter import configure_storage
    from tfm_jupyter.config import reset_storage_configuration

    reset_storage_configuration()
    if scheme == "az":
        configure_storage("az://", connection_string=azurite.connection_string_for(url))
    else:
        configure_storage("gs://", endpoint_url=url, token="anon")
    root = TPath(f"{scheme}://{container}/")

    def listing() -> list[str]:
        root.backend.forget(root)
        return [p.name for p in (root / "bench").iterdir()]

    def stat() -> int:
        root.backend.forget(root)
        return (root / "bench/f0000.bin").stat().st_size

    return (lambda name: (root / name).read_bytes()), {
        "read": lambda: (root / "bench/f0000.bin").read_bytes(), "stat": stat, "list": listing,
        "copy": lambda: (root / "bench/f0000.bin").copy(root / "copied.bin")}


# -- the alternatives -----------------------------------------------------------------------------------


def obstore_azure(container: str, url: str) -> tuple[Callable, dict[str, Callable]]:
    import obstore
    from obstore.store import AzureStore
    from servers import AZURITE_KEY

    store = AzureStore(container, account_name="devstoreaccount1", account_key=AZURITE_KEY,
                       endpoint=f"{url}/devstoreaccount1", client_options={"allow_http": True})
    return (lambda name: bytes(obstore.get(store, name).bytes())), {
        "read": lambda: bytes(obstore.get(store, "bench/f0000.bin").bytes()),
        "stat": lambda: obstore.head(store, "bench/f0000.bin"),
        "list": lambda: obstore.list_with_delimiter(store, "bench/"),
        "copy": lambda: obstore.copy(store, "bench/f0000.bin", "copied-alt.bin")}


def gcsfs_gcs(bucket: str, url: str) -> tuple[Callable, dict[str, Callable]]:
    # gcsfs's newer default asks a gRPC control plane for each bucket's layout, which an emulator lacks
    os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
    import gcsfs

    fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=url, skip_instance_cache=True)

    def fresh(operation: Callable[[], Any]) -> Callable[[], Any]:
        return lambda: (fs.invalidate_cache(), operation())

    return (lambda name: fs.cat_file(f"{bucket}/{name}")), {
        "read": lambda: fs.cat_file(f"{bucket}/bench/f0000.bin"),
        "stat": fresh(lambda: fs.info(f"{bucket}/bench/f0000.bin")),
        "list": fresh(lambda: fs.ls(f"{bucket}/bench")),
        "copy": lambda: fs.copy(f"{bucket}/bench/f0000.bin", f"{bucket}/copied-alt.bin")}


def measure(scheme: str, emulator_url: str, azurite: Any, objects: int) -> dict[str, Any]:
    from fault_proxy import FaultProxy

    from tfm_jupyter import Path as TPath

    container = f"b-{uuid.uuid4().hex[:8]}"
    root = TPath(f"{scheme}://{container}/")
    root.mkdir()
    names = [f"bench/f{n:04d}.bin" for n in range(objects)]
    for name in names:
        (root / name).write_bytes(os.urandom(4096))
    alternative = obstore_azure if scheme == "az" else gcsfs_gcs
    row: dict[str, Any] = {"scheme": scheme}
    for label, make in (("ours", lambda url: ours(scheme, container, url, azurite)),
                        ("theirs", lambda url: alternative(container, url))):
        read, _ = make(emulator_url)
        row[f"{label}_cpu"] = per_get(read, names)
        with FaultProxy(emulator_url) as proxy:
            _, operations = make(proxy.url)
            row[f"{label}_requests"] = counted(proxy, operations)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--output", default=str(HERE / "RESULTS-clouds.md"))
    args = parser.parse_args(argv)
    from servers import Azurite, FakeGCS

    from tfm_jupyter import configure_storage
    from tfm_jupyter.config import reset_storage_configuration

    azurite, gcs = Azurite().start(), FakeGCS().start()
    try:
        configure_storage("az://", connection_string=azurite.connection_string_for(azurite.url))
        rows = [measure("az", azurite.url, azurite, args.objects)]
        reset_storage_configuration()
        rows.append(measure("gs", gcs.direct, azurite, args.objects))
    finally:
        azurite.stop()
        gcs.stop()
    write(rows, args)
    return 0


def write(rows: list[dict[str, Any]], args: Any) -> None:
    lines = ["# Azure and GCS: the library choice (benchmarks/clouds.py)", "",
             f"Azurite and fake-gcs-server on loopback; {platform.machine()}, {os.cpu_count()} cores. CPU: "
             f"{args.objects} objects of 4 KiB read one after another, best of 3 passes, user + system of this "
             "process per GET. Requests: counted at a proxy in front of the emulator, caches cleared first; "
             "read / stat / list (a folder of all objects) / copy (within the container).", "",
             "| storage | library | CPU per GET | requests: read / stat / list / copy |", "|---|---|---|---|"]
    for row in rows:
        storage = "Azure Blob" if row["scheme"] == "az" else "GCS"
        libraries = (("azure-storage-blob (ours)", "obstore") if row["scheme"] == "az"
                     else ("google-cloud-storage (ours)", "gcsfs"))
        for label, library in zip(("ours", "theirs"), libraries, strict=True):
            requests = " / ".join(str(row[f"{label}_requests"][op]) for op in OPERATIONS)
            lines.append(f"| {storage} | {library} | {row[f'{label}_cpu']:.3f} ms | {requests} |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
