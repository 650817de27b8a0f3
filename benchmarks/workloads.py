"""The benchmark workloads: what each implementation does, and the data each needs.

Every workload returns a small result (counts, byte totals) so the harness can check that all
implementations did the same thing before comparing how fast and with how many requests.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .impls import Context

W1_KEYS, W3_KEYS, W4_KEYS, W5_KEYS, W7_KEYS = 10_000, 5_000, 200, 200, 500
W8_FOLDERS, W8_ENTRIES = 50, 200
TRANSFER_FILES = 1_000


@dataclass
class Workload:
    number: str
    title: str
    seed: Callable[[Any, str], None]  # runs in the server process: objects straight into moto's backend
    runs: dict[str, Callable[[Context], Any]]
    clean: tuple[str, ...] = ()  # prefixes removed (uncounted) before every run
    setup: Callable[[Any], None] | None = None  # local files, in this process, once
    reset: Callable[[Any], None] | None = None  # local state, before every run


def _generic(function: Callable[[Context], Any]) -> dict[str, Callable[[Context], Any]]:
    """The same pathlib-style code for every path library."""
    return {name: function for name in ("tfm_jupyter", "cloudpathlib", "s3path", "universal-pathlib")}


def _paginate(ctx: Context, **params: Any) -> Any:
    return ctx.state.client.get_paginator("list_objects_v2").paginate(Bucket=ctx.bucket, **params)


def _no_seed(server: Any, bucket: str) -> None:
    """Workloads that start from local files need no objects."""


# -- 1. iterdir over 10,000 keys, then is_file() and stat().st_size of every child -------------------


def seed_w1(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w1/{i:05d}.dat": b"x" * (i % 100) for i in range(W1_KEYS)})


def w1_paths(ctx: Context) -> Any:
    children = list(ctx.path("w1").iterdir())
    return len(children), sum(c.stat().st_size for c in children if c.is_file())


def w1_boto3(ctx: Context) -> Any:
    count = total = 0
    for page in _paginate(ctx, Prefix="w1/", Delimiter="/"):
        for item in page.get("Contents", ()):
            count, total = count + 1, total + item["Size"]
        count += len(page.get("CommonPrefixes", ()))
    return count, total


# -- 2. rglob('*') over 3,000 keys in 300 folders three levels deep -------------------------------------


def seed_w2(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w2/d{a}/e{b}/f{c}/{m}.txt": b"" for a in range(10) for b in range(5)
                                for c in range(6) for m in range(10)})


def w2_paths(ctx: Context) -> Any:
    return len(list(ctx.path("w2").rglob("*")))


def w2_boto3(ctx: Context) -> Any:
    files, dirs = 0, set()
    for page in _paginate(ctx, Prefix="w2/"):
        for item in page.get("Contents", ()):
            files += 1
            parts = item["Key"][3:].split("/")[:-1]
            dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return files + len(dirs)


# -- 3. glob('*.csv') in a 5,000-key folder ------------------------------------------------------------------


def seed_w3(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w3/{i:05d}.{'csv' if i % 2 else 'txt'}": b"" for i in range(W3_KEYS)})


def w3_paths(ctx: Context) -> Any:
    return len(list(ctx.path("w3").glob("*.csv")))


def w3_boto3(ctx: Context) -> Any:
    return sum(1 for page in _paginate(ctx, Prefix="w3/", Delimiter="/") for item in page.get("Contents", ())
               if fnmatch.fnmatchcase(item["Key"][3:], "*.csv"))


# -- 4. exists() on 200 present and 200 missing keys, twice -----------------------------------------------


def seed_w4(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w4/present-{i:03d}": b"x" for i in range(W4_KEYS)})


W4_NAMES = [f"w4/present-{i:03d}" for i in range(W4_KEYS)] + [f"w4/missing-{i:03d}" for i in range(W4_KEYS)]


def w4_paths(ctx: Context) -> Any:
    return [sum(ctx.path(name).exists() for name in W4_NAMES) for _ in range(2)]


def w4_boto3(ctx: Context) -> Any:
    from botocore.exceptions import ClientError

    def exists(key: str) -> bool:
        try:
            ctx.state.client.head_object(Bucket=ctx.bucket, Key=key)
            return True
        except ClientError:
            return False

    return [sum(exists(name) for name in W4_NAMES) for _ in range(2)]


# -- 5. read_bytes() of 200 small objects, twice; write_bytes() of 200 small objects ------------------------


def seed_w5(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w5/in-{i:03d}": os.urandom(2048) for i in range(W5_KEYS)})


def w5_paths(ctx: Context) -> Any:
    total = sum(len(ctx.path(f"w5/in-{i:03d}").read_bytes()) for _ in range(2) for i in range(W5_KEYS))
    for i in range(W5_KEYS):
        ctx.path(f"w5/out-{i:03d}").write_bytes(b"y" * 1024)
    return total


def w5_boto3(ctx: Context) -> Any:
    client = ctx.state.client
    total = sum(len(client.get_object(Bucket=ctx.bucket, Key=f"w5/in-{i:03d}")["Body"].read())
                for _ in range(2) for i in range(W5_KEYS))
    for i in range(W5_KEYS):
        client.put_object(Bucket=ctx.bucket, Key=f"w5/out-{i:03d}", Body=b"y" * 1024)
    return total


# -- 6. a big file up and down -------------------------------------------------------------------------------


def reset_w6(data: Any) -> None:
    shutil.rmtree(data.workdir / "w6-down", ignore_errors=True)
    (data.workdir / "w6-down").mkdir()


def _w6_check(data: Any) -> Any:
    return os.path.getsize(data.workdir / "w6-down" / "big.bin")


def w6_tfm(ctx: Context) -> Any:
    from tfm_jupyter import Path

    Path(ctx.data.big_file).copy(ctx.path("w6/big.bin"), progress=False)
    ctx.path("w6/big.bin").copy(Path(ctx.data.workdir / "w6-down" / "big.bin"), progress=False)
    return _w6_check(ctx.data)


def w6_boto3(ctx: Context) -> Any:
    ctx.state.client.upload_file(str(ctx.data.big_file), ctx.bucket, "w6/big.bin")
    ctx.state.client.download_file(ctx.bucket, "w6/big.bin", str(ctx.data.workdir / "w6-down" / "big.bin"))
    return _w6_check(ctx.data)


def w6_cloudpathlib(ctx: Context) -> Any:
    target = ctx.path("w6/big.bin")
    target.upload_from(ctx.data.big_file)
    target.download_to(ctx.data.workdir / "w6-down" / "big.bin")
    return _w6_check(ctx.data)


def w6_upath(ctx: Context) -> Any:
    target = ctx.path("w6/big.bin")
    target.fs.put_file(str(ctx.data.big_file), target.path)
    target.fs.get_file(target.path, str(ctx.data.workdir / "w6-down" / "big.bin"))
    return _w6_check(ctx.data)


def w6_awscli(ctx: Context) -> Any:
    uri = f"s3://{ctx.bucket}/w6/big.bin"
    _aws(ctx, "cp", str(ctx.data.big_file), uri)
    _aws(ctx, "cp", uri, str(ctx.data.workdir / "w6-down" / "big.bin"))
    return _w6_check(ctx.data)


def _aws(ctx: Context, *args: str) -> None:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench-key", AWS_SECRET_ACCESS_KEY="bench-secret",
               AWS_DEFAULT_REGION="us-east-1")
    subprocess.run([ctx.data.aws, "s3", *args, "--endpoint-url", ctx.endpoint, "--only-show-errors"], check=True,
                   env=env)


# -- 7. S3 -> S3 copy of a 500-object folder -------------------------------------------------------------------


def seed_w7(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"w7/src/{i:04d}.dat": os.urandom(1024) for i in range(W7_KEYS)})


def _tree_copy_tfm(source: str, target: str, ctx: Context) -> Any:
    ctx.path(source).copy(ctx.path(target), progress=False)
    return ctx.data.count(ctx.bucket, target + "/")


def _tree_copy_boto3(source: str, target: str, ctx: Context) -> Any:
    client = ctx.state.client
    keys = [item["Key"] for page in _paginate(ctx, Prefix=source + "/") for item in page.get("Contents", ())]
    with ThreadPoolExecutor(10) as pool:  # a careful script copies in parallel, as the CLI does
        list(pool.map(lambda k: client.copy_object(Bucket=ctx.bucket, Key=target + k[len(source):],
                                                   CopySource={"Bucket": ctx.bucket, "Key": k}), keys))
    return ctx.data.count(ctx.bucket, target + "/")


def _tree_copy_awscli(source: str, target: str, ctx: Context) -> Any:
    _aws(ctx, "cp", "--recursive", f"s3://{ctx.bucket}/{source}", f"s3://{ctx.bucket}/{target}")
    return ctx.data.count(ctx.bucket, target + "/")


def w7_cloudpathlib(ctx: Context) -> Any:
    ctx.path("w7/src").copytree(ctx.path("w7/dst"))
    return ctx.data.count(ctx.bucket, "w7/dst/")


def w7_upath(ctx: Context) -> Any:
    source = ctx.path("w7/src")
    source.fs.copy(source.path + "/", ctx.path("w7/dst").path + "/", recursive=True)
    return ctx.data.count(ctx.bucket, "w7/dst/")


# -- 8. a file-browser session: 50 folders of 200 entries, every entry's name, size, mtime, dir flag ----------


def seed_w8(server: Any, bucket: str) -> None:
    objects = {}
    for folder in range(W8_FOLDERS):
        for entry in range(W8_ENTRIES):
            name = f"sub{entry:03d}/x" if entry % 10 == 0 else f"{entry:03d}.csv"  # a tenth are folders
            objects[f"w8/folder{folder:02d}/{name}"] = b"z" * entry
    server.put_objects(bucket, objects)


def w8_paths(ctx: Context) -> Any:
    shown = 0
    for folder in range(W8_FOLDERS):
        for entry in ctx.path(f"w8/folder{folder:02d}").iterdir():
            is_dir = entry.is_dir()
            if not is_dir:
                stat = entry.stat()
                _ = (entry.name, stat.st_size, stat.st_mtime)
            shown += 1
    return shown


def w8_boto3(ctx: Context) -> Any:
    shown = 0
    for folder in range(W8_FOLDERS):
        for page in _paginate(ctx, Prefix=f"w8/folder{folder:02d}/", Delimiter="/"):
            shown += len(page.get("Contents", ())) + len(page.get("CommonPrefixes", ()))
    return shown


# -- issue 4's transfer benchmarks: a 1,000-file tree up to S3, and S3 -> S3 ------------------------------------


def setup_t2(data: Any) -> None:
    tree = data.workdir / "t2-tree"
    if not tree.exists():
        for i in range(TRANSFER_FILES):
            folder = tree / f"d{i % 10}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i:04d}.bin").write_bytes(os.urandom(4096))


def t2_tfm(ctx: Context) -> Any:
    from tfm_jupyter import Path

    Path(ctx.data.workdir / "t2-tree").copy(ctx.path("t2"), progress=False)
    return ctx.data.count(ctx.bucket, "t2/")


def t2_boto3(ctx: Context) -> Any:
    root = ctx.data.workdir / "t2-tree"
    files = [p for p in root.rglob("*") if p.is_file()]
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda p: ctx.state.client.upload_file(str(p), ctx.bucket, f"t2/{p.relative_to(root)}"), files))
    return ctx.data.count(ctx.bucket, "t2/")


def t2_awscli(ctx: Context) -> Any:
    _aws(ctx, "cp", "--recursive", str(ctx.data.workdir / "t2-tree"), f"s3://{ctx.bucket}/t2")
    return ctx.data.count(ctx.bucket, "t2/")


def seed_t3(server: Any, bucket: str) -> None:
    server.put_objects(bucket, {f"t3/src/d{i % 10}/{i:04d}.bin": os.urandom(4096) for i in range(TRANSFER_FILES)})


def _tree_copies(source: str, target: str) -> dict[str, Callable[[Context], Any]]:
    return {"boto3": functools.partial(_tree_copy_boto3, source, target),
            "tfm_jupyter": functools.partial(_tree_copy_tfm, source, target),
            "aws s3 cp": functools.partial(_tree_copy_awscli, source, target)}


# -- D1. pandas.read_parquet of a 3-file dataset: one column, then every column ---------------------

D1_FILES, D1_ROWS = 3, 200_000


def seed_d1(server: Any, bucket: str) -> None:
    import io
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(1)
    for part in range(D1_FILES):
        table = pa.table({"id": range(D1_ROWS), "amount": [rng.random() for _ in range(D1_ROWS)],
                          "note": [f"{rng.getrandbits(96):024x}" for _ in range(D1_ROWS)]})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, row_group_size=50_000)
        server.put_objects(bucket, {f"d1/part-{part}.parquet": buffer.getvalue()})


def _d1_result(one: Any, every: Any) -> Any:
    return len(one), round(float(one["amount"].sum()), 3), every.shape


def d1_tfm(ctx: Context) -> Any:
    import pandas as pd

    dataset = ctx.path("d1/")
    return _d1_result(pd.read_parquet(dataset, columns=["amount"]), pd.read_parquet(dataset))


def d1_s3fs(ctx: Context) -> Any:
    import pandas as pd

    url, options = f"s3://{ctx.bucket}/d1/", ctx.state.storage_options
    return _d1_result(pd.read_parquet(url, columns=["amount"], storage_options=options),
                      pd.read_parquet(url, storage_options=options))


def d1_boto3(ctx: Context) -> Any:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = sorted(item["Key"] for page in _paginate(ctx, Prefix="d1/") for item in page.get("Contents", ()))
    bodies = [ctx.state.client.get_object(Bucket=ctx.bucket, Key=key)["Body"].read() for key in keys]
    tables = [pq.read_table(io.BytesIO(body)) for body in bodies]  # whole objects: the simple script
    every = pa.concat_tables(tables).to_pandas()
    return _d1_result(every[["amount"]], every)


WORKLOADS = [
    Workload("1", f"iterdir over {W1_KEYS:,} keys, then is_file() and stat().st_size of every child", seed_w1,
             {"boto3": w1_boto3, **_generic(w1_paths)}),
    Workload("2", "rglob('*') over 3,000 keys in 300 folders three levels deep", seed_w2,
             {"boto3": w2_boto3, **_generic(w2_paths)}),
    Workload("3", f"glob('*.csv') in a {W3_KEYS:,}-key folder", seed_w3, {"boto3": w3_boto3, **_generic(w3_paths)}),
    Workload("4", f"exists() on {W4_KEYS} present + {W4_KEYS} missing keys, twice", seed_w4,
             {"boto3": w4_boto3, **_generic(w4_paths)}),
    Workload("5", f"read_bytes() of {W5_KEYS} small objects twice; write_bytes() of {W5_KEYS}", seed_w5,
             {"boto3": w5_boto3, **_generic(w5_paths)}, clean=("w5/out-",)),
    Workload("6", "a big file: upload, then download", _no_seed,
             {"boto3": w6_boto3, "tfm_jupyter": w6_tfm, "cloudpathlib": w6_cloudpathlib,
              "universal-pathlib": w6_upath, "aws s3 cp": w6_awscli}, clean=("w6/",), reset=reset_w6),
    Workload("7", f"S3 -> S3 copy of a {W7_KEYS}-object folder", seed_w7,
             {**_tree_copies("w7/src", "w7/dst"), "cloudpathlib": w7_cloudpathlib, "universal-pathlib": w7_upath},
             clean=("w7/dst/",)),
    Workload("8", f"file-browser session: {W8_FOLDERS} folders of {W8_ENTRIES} entries, name/size/mtime/dir each",
             seed_w8, {"boto3": w8_boto3, **_generic(w8_paths)}),
    Workload("T2", f"{TRANSFER_FILES:,}-file directory upload, local -> S3", _no_seed,
             {"boto3": t2_boto3, "tfm_jupyter": t2_tfm, "aws s3 cp": t2_awscli}, clean=("t2/",), setup=setup_t2),
    Workload("T3", f"{TRANSFER_FILES:,}-file directory copy, S3 -> S3", seed_t3,
             _tree_copies("t3/src", "t3/dst"), clean=("t3/dst/",)),
    Workload("D1", f"pandas.read_parquet of a {D1_FILES}-file dataset: one column, then every column", seed_d1,
             {"boto3": d1_boto3, "tfm_jupyter": d1_tfm, "s3fs": d1_s3fs}),
]
