"""The persistent cache across processes, and the request meter."""

import sqlite3
import subprocess
import sys
import textwrap
import warnings

import pytest

from conftest import only
from tfm_jupyter import Path, configure_s3_cache, configure_s3_prices, get_s3_cache_stats

PROGRAM = """
import sys
from tfm_jupyter import Path, configure_s3_cache
configure_s3_cache(persist=sys.argv[1], ttl=float(sys.argv[2]))
{body}
"""


def run_kernel(db, body, ttl=60):
    """A fresh Python process, like a restarted kernel, sharing the cache file."""
    code = PROGRAM.format(body=textwrap.dedent(body))
    result = subprocess.run([sys.executable, "-c", code, str(db), str(ttl)], capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def test_a_restarted_kernel_opens_a_big_folder_without_listing_it(s3, bucket, tmp_path):
    s3.seed(bucket, {f"big/{i:05d}.csv": b"x" for i in range(3500)})
    db = tmp_path / "cache.sqlite3"
    listing = f"print(len(list(Path('s3://{bucket}/big').iterdir())))"
    with s3.counting() as first:
        assert run_kernel(db, listing) == "3500"
    assert only(first, ListObjectsV2=4)
    with s3.counting() as second:
        assert run_kernel(db, listing) == "3500"
        assert run_kernel(db, f"print(Path('s3://{bucket}/big/00042.csv').stat().st_size)") == "1"
    assert only(second)  # 0 list requests within the TTL, in two more processes


def test_writes_invalidate_the_disk_too(s3, bucket, tmp_path):
    s3.seed(bucket, {"d/a.txt": b"a"})
    db = tmp_path / "cache.sqlite3"
    names = f"print(sorted(p.name for p in Path('s3://{bucket}/d').iterdir()))"
    assert run_kernel(db, names) == "['a.txt']"
    run_kernel(db, f"Path('s3://{bucket}/d/b.txt').write_text('b'); Path('s3://{bucket}/d/a.txt').unlink()")
    with s3.counting() as counts:
        assert run_kernel(db, names) == "['b.txt']"
    assert only(counts)  # updated in place, on disk as in memory


def test_the_ttl_holds_across_processes(s3, bucket, tmp_path):
    s3.seed(bucket, {"t/a": b""})
    db = tmp_path / "cache.sqlite3"
    run_kernel(db, f"list(Path('s3://{bucket}/t').iterdir())", ttl=60)
    with s3.counting() as fresh:
        run_kernel(db, f"list(Path('s3://{bucket}/t').iterdir())", ttl=60)
    with sqlite3.connect(db) as connection:  # an hour passes for the file (instead of sleeping)
        connection.execute("UPDATE entries SET expires = expires - 3600")
    with s3.counting() as expired:
        run_kernel(db, f"list(Path('s3://{bucket}/t').iterdir())", ttl=60)
    assert only(fresh) and only(expired, ListObjectsV2=1)


def test_persist_accepts_an_existing_directory(s3, bucket, tmp_path):
    s3.seed(bucket, {"d/a.txt": b"a"})
    listing = f"print(len(list(Path('s3://{bucket}/d').iterdir())))"
    assert run_kernel(tmp_path, listing) == "1"  # tmp_path exists: the cache file goes inside it
    assert (tmp_path / "s3cache.sqlite3").is_file()
    with s3.counting() as counts:
        assert run_kernel(tmp_path, listing) == "1"
    assert only(counts)


def test_object_bodies_are_never_persisted(s3, bucket, tmp_path):
    s3.seed(bucket, {"b/secret.txt": b"contents"})
    db = tmp_path / "cache.sqlite3"
    configure_s3_cache(persist=db)
    assert Path(f"s3://{bucket}/b/secret.txt").read_bytes() == b"contents"
    list(Path(f"s3://{bucket}/b").iterdir())
    with sqlite3.connect(db) as connection:
        operations = {row[0] for row in connection.execute("SELECT DISTINCT operation FROM entries")}
        everything = " ".join(str(row) for row in connection.execute("SELECT * FROM entries"))
    assert "body" not in operations and "list_dir" in operations and "contents" not in everything


def test_a_corrupt_cache_file_is_ignored_with_a_warning(s3, bucket, tmp_path):
    db = tmp_path / "broken.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    s3.seed(bucket, {"c/x": b"1"})
    with pytest.warns(RuntimeWarning, match="not usable and is ignored"):
        configure_s3_cache(persist=db)
    assert [p.name for p in Path(f"s3://{bucket}/c").iterdir()] == ["x"]


def test_a_locked_cache_file_is_ignored_with_a_warning(s3, bucket, tmp_path):
    db = tmp_path / "locked.sqlite3"
    configure_s3_cache(persist=db)
    configure_s3_cache(persist=False)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        s3.seed(bucket, {"l/x": b"1"})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            configure_s3_cache(persist=db)
            assert [p.name for p in Path(f"s3://{bucket}/l").iterdir()] == ["x"]
        assert any("not usable and is ignored" in str(w.message) for w in caught)
    finally:
        holder.close()


def test_stats_count_requests_saved_requests_and_cost(s3, bucket):
    s3.seed(bucket, {f"m/{i:04d}": b"" for i in range(2500)})
    before = get_s3_cache_stats()
    children = list(Path(f"s3://{bucket}/m").iterdir())
    for child in children:
        child.stat()
    list(Path(f"s3://{bucket}/m").iterdir())
    after = get_s3_cache_stats()
    assert after["requests"] - before["requests"] == 3
    lists = after["requests_by_operation"]["ListObjectsV2"] - before["requests_by_operation"].get("ListObjectsV2", 0)
    assert lists == 3
    assert after["saved"] - before["saved"] == 2500 + 3  # 2,500 stats, and one re-listing of 3 pages
    assert after["estimated_cost_usd"] > before["estimated_cost_usd"]
    assert after["prices_taken"] == "2026-11-25"


def test_prices_are_configurable(s3, bucket):
    from tfm_jupyter.s3.meter import estimate_cost

    assert estimate_cost({"ListObjectsV2": 1000, "GetObject": 1000, "DeleteObject": 1000}) == pytest.approx(0.0054)
    try:
        configure_s3_prices(tier1_per_1000=1.0, tier2_per_1000=0.5)
        assert estimate_cost({"PutObject": 2000, "HeadObject": 2000}) == pytest.approx(3.0)
    finally:
        configure_s3_prices(reset=True)


def test_s3meter_prints_after_each_cell(s3, bucket, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    s3.seed(bucket, {f"k{i}": b"" for i in range(3)})
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tfm_jupyter")
    try:
        shell.run_cell("%s3meter on")
        capsys.readouterr()
        shell.run_cell(f"from tfm_jupyter import Path\n[p.exists() for p in Path('s3://{bucket}/').iterdir()]")
        out = capsys.readouterr().out
        assert "1 S3 request (3 saved by the cache), about $0.000005" in out
        shell.run_cell("%s3meter off")
        capsys.readouterr()
        shell.run_cell(f"list(Path('s3://{bucket}/').iterdir())")
        assert "S3 request" not in capsys.readouterr().out
    finally:
        shell.run_line_magic("unload_ext", "tfm_jupyter")
