"""pandas, pyarrow, polars, DuckDB and fsspec read and write S3 through tfm_jupyter.

Every test uses the real library against the real S3 endpoint, checks that the data round-trips,
and counts the requests at the server (and, where it matters, which GETs were ranged).
"""

import io
import os

import fsspec
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from fault_proxy import FaultProxy, Rule

from conftest import only
from tfm_jupyter import Path, arrow_filesystem, configure_s3, filesystem, get_s3_cache_stats, sql
from tfm_jupyter.data.fs import S3FileSystem

SALES = pd.DataFrame({"region": ["eu", "us", "eu", "apac"], "amount": [10, 20, 5, 7]})


def parquet_bytes(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


@pytest.fixture
def lake(s3, bucket):
    """CSV, JSON lines and a hive-partitioned dataset of three parquet files of ~2 MiB each."""
    objects = {
        "sales/2024/q1.csv": SALES.to_csv(index=False).encode(),
        "sales/2025/q1.csv": pd.DataFrame({"region": ["us"], "amount": [100]}).to_csv(index=False).encode(),
        "events.jsonl": SALES.to_json(orient="records", lines=True).encode(),
    }
    for year in (2023, 2024, 2025):
        rows = 40_000
        table = pa.table({"id": pa.array(range(rows), pa.int64()),
                          "payload": pa.array([os.urandom(24).hex() for _ in range(rows)])})
        objects[f"dataset/year={year}/part-0.parquet"] = parquet_bytes(table, row_group_size=10_000)
    s3.seed(bucket, objects)
    return bucket


@pytest.fixture
def ranges(s3):
    """The Range header of every GetObject the server sees, by key."""
    seen: list[tuple[str, str | None]] = []

    def wrap(app):
        def recorded(environ, start_response):
            if environ.get("tfm.operation") == "GetObject":
                seen.append((environ["PATH_INFO"], environ.get("HTTP_RANGE")))
            return app(environ, start_response)

        return recorded

    s3.server.middleware.append(wrap)
    yield seen
    s3.server.middleware.remove(wrap)


def meter():
    return get_s3_cache_stats()["requests_by_operation"]


def test_s3_strings_in_fsspec_are_served_by_us():
    assert fsspec.get_filesystem_class("s3") is S3FileSystem
    assert fsspec.get_filesystem_class("s3a") is S3FileSystem
    assert isinstance(filesystem(), fsspec.AbstractFileSystem)


def test_read_csv_of_a_path_and_of_a_string_is_one_get_then_cached(s3, lake):
    path = Path(f"s3://{lake}/sales/2024/q1.csv")
    before = meter()
    with s3.counting() as first:
        frame = pd.read_csv(path)
    pd.testing.assert_frame_equal(frame, SALES)
    assert only(first, GetObject=1)
    assert meter().get("GetObject", 0) == before.get("GetObject", 0) + 1  # the meter saw it
    with s3.counting() as again:
        pd.testing.assert_frame_equal(pd.read_csv(path), SALES)
        pd.testing.assert_frame_equal(pd.read_csv(f"s3://{lake}/sales/2024/q1.csv"), SALES)  # as in tutorials
    assert only(again)  # within the TTL: 0 requests


def test_read_json_lines(s3, lake):
    with s3.counting() as counts:
        frame = pd.read_json(Path(f"s3://{lake}/events.jsonl"), lines=True)
    pd.testing.assert_frame_equal(frame, SALES)
    assert only(counts, GetObject=1)


def test_to_csv_and_to_parquet_write_through_us_and_keep_the_cache_true(s3, bucket):
    root = Path(f"s3://{bucket}/")
    assert list(root.iterdir()) == []  # a cached, empty listing: our writes must update it
    with s3.counting() as counts:
        SALES.to_csv(root / "out.csv", index=False)
        SALES.to_parquet(root / "out.parquet")
    assert only(counts, PutObject=2)  # no HEAD, no listing, no pyarrow S3 client
    assert sorted(p.name for p in root.iterdir()) == ["out.csv", "out.parquet"]
    pd.testing.assert_frame_equal(pd.read_csv(root / "out.csv"), SALES)
    pd.testing.assert_frame_equal(pd.read_parquet(root / "out.parquet"), SALES)
    assert pq.read_table(io.BytesIO(s3.body(bucket, "out.parquet"))).to_pandas().equals(SALES)


def test_reading_one_column_of_a_parquet_dataset_is_a_listing_and_ranged_gets(s3, lake, ranges):
    with s3.counting() as counts:
        frame = pd.read_parquet(Path(f"s3://{lake}/dataset/"), columns=["id"])
    assert len(frame) == 120_000 and list(frame.columns) == ["id"]
    assert counts["ListObjectsV2"] == 1 and counts["HeadObject"] == 0
    assert set(counts) == {"ListObjectsV2", "GetObject"}
    sizes = {key: len(s3.body(lake, key)) for key in s3.keys(lake, "dataset/")}
    assert all(size > 2**20 for size in sizes.values())
    assert ranges and all(header and header.startswith("bytes=") for _, header in ranges)  # never whole objects
    assert counts["GetObject"] <= 6 * len(sizes)  # per file: its footer, then the column's 4 row-group chunks
    assert sum(_range_length(header) for _, header in ranges) < sum(sizes.values()) / 3  # not the payload


def test_hive_partitions_through_pyarrow_dataset_with_our_arrow_filesystem(s3, lake, ranges):
    dataset = ds.dataset(f"s3://{lake}/dataset", filesystem=arrow_filesystem(), partitioning="hive")
    ranges.clear()  # building the dataset read the first file's footer for its schema
    with s3.counting() as counts:
        table = dataset.to_table(columns=["id"], filter=ds.field("year") == 2024)
    assert table.num_rows == 40_000
    assert counts["ListObjectsV2"] == 0  # the listing was made (and cached) when the dataset was built
    assert ranges and all(key.endswith("year=2024/part-0.parquet") for key, _ in ranges)  # partitions pruned
    assert all(header for _, header in ranges)


def test_pyarrow_read_and_write_table_with_our_filesystem(s3, bucket):
    table = pa.table({"x": [1, 2, 3]})
    target = str(Path(f"s3://{bucket}/t/x.parquet"))
    with s3.counting() as counts:
        pq.write_table(table, target, filesystem=arrow_filesystem())
    assert only(counts, PutObject=1)
    assert pq.read_table(target, filesystem=arrow_filesystem()).equals(table)
    assert pq.read_table(f"{bucket}/t/x.parquet", filesystem=arrow_filesystem()).equals(table)


def test_pyarrow_without_our_filesystem_says_so_instead_of_using_another_client(bucket):
    # s3a:// is no scheme of pyarrow's own S3 client: it refuses rather than reading with other
    # credentials or another endpoint (README, "Data tools").
    with pytest.raises(pa.ArrowInvalid, match="s3a://"):
        pq.read_table(Path(f"s3://{bucket}/x.parquet"))


def test_polars_reads_and_writes_through_file_objects(s3, bucket):
    frame = pl.DataFrame({"region": ["eu", "us"], "amount": [1, 2]})
    with s3.counting() as written:
        with Path(f"s3://{bucket}/p/a.parquet").open("wb") as out:
            frame.write_parquet(out)
        with Path(f"s3://{bucket}/p/a.csv").open("wb") as out:
            frame.write_csv(out)
    assert only(written, PutObject=2)
    with s3.counting() as read:
        back = pl.read_parquet(Path(f"s3://{bucket}/p/a.parquet").open("rb"))
        lazy = pl.scan_parquet(Path(f"s3://{bucket}/p/a.parquet").open("rb")).select("amount").collect()
        csv = pl.read_csv(Path(f"s3://{bucket}/p/a.csv").open("rb"))
    assert back.equals(frame) and csv.equals(frame) and lazy["amount"].to_list() == [1, 2]
    assert only(read)  # small objects we just wrote: their bodies are cached


def test_sql_over_csv_globs_returns_a_dataframe(s3, lake):
    with s3.counting() as counts:
        result = sql(f"SELECT region, sum(amount) AS total FROM 's3://{lake}/sales/**/*.csv' "
                     "GROUP BY 1 ORDER BY 1")
    assert result.to_dict("list") == {"region": ["apac", "eu", "us"], "total": [7, 15, 120]}
    assert counts["GetObject"] == 2 and counts["ListObjectsV2"] == 1 and set(counts) <= {"GetObject",
                                                                                        "ListObjectsV2"}


def test_sql_on_one_parquet_column_reads_ranges_not_objects(s3, lake, ranges):
    with s3.counting() as counts:
        result = sql(f"SELECT count(*) AS n, max(id) AS top FROM 's3://{lake}/dataset/*/*.parquet'")
    assert result.to_dict("list") == {"n": [120_000], "top": [39_999]}
    assert counts["ListObjectsV2"] == 1 and ranges and all(header for _, header in ranges)
    transferred = sum(_range_length(header) for _, header in ranges)
    assert transferred < sum(len(s3.body(lake, key)) for key in s3.keys(lake, "dataset/")) / 2


def _range_length(header, size=None):
    """Bytes a Range header asks for (an open-ended one: to the end of the object of ``size``)."""
    start, _, end = header.removeprefix("bytes=").partition("-")
    return (int(end) if end else size - 1) - int(start) + 1


def test_one_column_asks_for_at_most_half_the_bytes_and_whole_reads_stay_one_get(s3, bucket, ranges):
    """The issue's shape: three ~3 MiB files, one small column read by pandas.  Reading on past a range
    used to ask for the rest of the object (bytes=N-); now it asks for a read-ahead that grows."""
    objects = {}
    for year in (2023, 2024, 2025):
        rows = 100_000
        table = pa.table({"id": pa.array(range(rows), pa.int64()), "value": pa.array([float(i) for i in range(rows)]),
                          "payload": pa.array([os.urandom(8).hex() for _ in range(rows)])})
        objects[f"ds/year={year}/part-0.parquet"] = parquet_bytes(table)
    s3.seed(bucket, objects)
    sizes = {f"/{bucket}/{key}": len(data) for key, data in objects.items()}
    frame = pd.read_parquet(Path(f"s3://{bucket}/ds/"), columns=["id"])
    assert frame["id"].sum() == 3 * sum(range(100_000))
    asked = sum(_range_length(header, sizes[path]) if header else sizes[path] for path, header in ranges)
    assert asked <= sum(sizes.values()) / 2, (asked, sum(sizes.values()))
    ranges.clear()
    big = Path(f"s3://{bucket}/ds/year=2023/part-0.parquet")
    list(big.parent.iterdir())  # the size is known: the reader asks for nothing until it reads
    with s3.counting() as counts, big.open("rb") as handle:
        chunks = iter(lambda: handle.read(65536), b"")
        assert b"".join(chunks) == objects["ds/year=2023/part-0.parquet"]
    assert counts["GetObject"] == 1 and ranges == [(f"/{bucket}/ds/year=2023/part-0.parquet", None)]


def test_sql_errors_are_ours(lake):
    with pytest.raises(FileNotFoundError, match="No files found"):
        sql(f"SELECT * FROM 's3://{lake}/nothing/*.csv'")
    with pytest.raises(ValueError, match="syntax error"):
        sql("SELEC 1")


def test_s3sql_magic(lake):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tfm_jupyter")
    try:
        frame = shell.run_line_magic("s3sql", f"SELECT count(*) AS n FROM 's3://{lake}/sales/**/*.csv'")
        assert frame.to_dict("list") == {"n": [5]}
        cell = shell.run_cell_magic("s3sql", "", f"SELECT region\nFROM 's3://{lake}/sales/2025/*.csv'")
        assert cell["region"].tolist() == ["us"]
    finally:
        shell.run_line_magic("unload_ext", "tfm_jupyter")


def test_fsspec_api_listing_ranges_writes_copy_and_remove(s3, lake):
    fs = filesystem()
    with s3.counting() as listed:
        found = fs.find(f"{lake}/sales")
        globbed = fs.glob(f"s3://{lake}/sales/*/*.csv")
    assert found == [f"{lake}/sales/2024/q1.csv", f"{lake}/sales/2025/q1.csv"] and globbed == found
    assert only(listed, ListObjectsV2=1)  # one flat listing answers both
    assert fs.info(f"{lake}/sales")["type"] == "directory"
    assert fs.cat_file(f"{lake}/sales/2024/q1.csv", start=0, end=6) == b"region"
    with fs.open(f"{lake}/new/x.bin", "wb") as out:
        out.write(b"abc")
    with pytest.raises(RuntimeError), fs.open(f"{lake}/new/x.bin", "wb") as out:  # a failing writer
        out.write(b"partial")
        raise RuntimeError("the writer failed")
    assert s3.body(lake, "new/x.bin") == b"abc"  # nothing was uploaded for it
    with s3.counting() as copied:
        fs.cp_file(f"{lake}/new/x.bin", f"{lake}/new/y.bin")
    assert only(copied, CopyObject=1)  # server-side
    fs.rm(f"{lake}/new", recursive=True)
    assert s3.keys(lake, "new/") == []
    with pytest.raises(FileNotFoundError):
        fs.info(f"{lake}/missing.csv")
    with pytest.raises(TypeError, match="s3fs options"):
        S3FileSystem(key="AKIA...", secret="...")  # s3fs is not installed here: said, not ignored


def test_a_failed_to_parquet_leaves_the_old_object(s3, bucket):
    Path(f"s3://{bucket}/keep.parquet").write_bytes(parquet_bytes(pa.table({"old": [1]})))
    with FaultProxy(s3.endpoint_url) as proxy:
        configure_s3(endpoint_url=proxy.url, max_attempts=2)
        proxy.add(Rule("status", operation="PutObject", status=403, code="AccessDenied"))
        with pytest.raises(PermissionError):
            SALES.to_parquet(Path(f"s3://{bucket}/keep.parquet"))
    assert pq.read_table(io.BytesIO(s3.body(bucket, "keep.parquet"))).column_names == ["old"]
    assert pd.read_parquet(Path(f"s3://{bucket}/keep.parquet")).columns.tolist() == ["old"]  # cache agrees


def test_a_body_read_before_our_write_never_replaces_it_in_the_cache(s3, bucket):
    # The interleaving a reader thread can meet: its GET answered with the old body, our write
    # recorded, then the reader's remember_body() - which must lose to the write.
    from tfm_jupyter.s3.stores import get_store

    store, path = get_store(), Path(f"s3://{bucket}/k.txt")
    s3.seed(bucket, {"k.txt": b"old"})
    before_the_get = store.generation(bucket)
    path.write_text("new")
    store.remember_body(bucket, "k.txt", '"etag-of-old"', b"old", before_the_get)
    with s3.counting() as counts:
        assert path.read_text() == "new"
    assert only(counts)  # the body our write cached, not the reader's
