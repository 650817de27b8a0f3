"""The cache's promises, counted at the server: how many S3 requests each operation costs."""

import pytest

from conftest import only, run_threads
from tfm_jupyter import Path, clear_s3_cache, configure_s3_cache, get_s3_cache, get_s3_cache_stats


def test_second_exists_on_a_new_path_object_costs_nothing_and_negatives_are_cached(s3, root, bucket):
    s3.seed(bucket, {"here.txt": b"x"})
    with s3.counting() as first:
        assert Path(f"s3://{bucket}/here.txt").exists()
        assert not Path(f"s3://{bucket}/absent.txt").exists()
    assert only(first, ListObjectsV2=2)
    with s3.counting() as second:
        assert Path(f"s3://{bucket}/here.txt").exists()
        assert Path(f"s3://{bucket}/here.txt").is_file()
        assert not Path(f"s3://{bucket}/absent.txt").exists()
        assert not Path(f"s3://{bucket}/absent.txt").is_dir()
    assert only(second)


def test_one_listing_answers_every_child_for_free(s3, root, bucket):
    s3.seed(bucket, {f"dir/{i:04d}.csv": b"x" * i for i in range(1105)})
    with s3.counting() as listing:
        children = list((root / "dir").iterdir())
    assert only(listing, ListObjectsV2=2)  # ceil(1105 / 1000)
    with s3.counting() as free:
        sizes = [child.stat().st_size for child in children]
        assert all(child.is_file() and not child.is_dir() and child.exists() for child in children)
        assert len(list((root / "dir").iterdir())) == 1105
        assert not (root / "dir" / "not-there.csv").exists()
    assert sizes == list(range(1105))
    assert only(free)


def test_read_bytes_is_one_get_and_only_small_objects_are_served_from_cache(s3, root, bucket):
    small, large = b"s" * 1000, b"L" * (300 * 1024)
    s3.seed(bucket, {"small.bin": small, "large.bin": large})
    with s3.counting() as counts:
        assert (root / "small.bin").read_bytes() == small
        assert (root / "large.bin").read_bytes() == large
    assert only(counts, GetObject=2)
    with s3.counting() as again:
        assert (root / "small.bin").read_bytes() == small
        assert (root / "large.bin").read_bytes() == large  # above the 256 KiB cap: fetched again, whole
        assert (root / "small.bin").stat().st_size == 1000  # the GET told us the size
    assert only(again, GetObject=1)


def test_rglob_is_one_flat_listing(s3, root, bucket):
    keys = {f"tree/l{a}/m{b}/n{c}.txt": b"" for a in range(10) for b in range(10) for c in range(25)}
    s3.seed(bucket, keys)
    with s3.counting() as counts:
        found = list((root / "tree").rglob("*.txt"))
    assert len(found) == 2500
    assert only(counts, ListObjectsV2=3)  # ceil(2500 / 1000), not one listing per directory
    with s3.counting() as after:
        assert len(list((root / "tree" / "l3" / "m4").iterdir())) == 25  # answered by the flat listing
        assert (root / "tree" / "l3" / "m4" / "n7.txt").is_file()
        assert not (root / "tree" / "l3" / "m4" / "zz.txt").exists()
    assert only(after)


def test_a_listing_is_one_entry_and_never_evicts_itself(s3, root, bucket):
    configure_s3_cache(max_entries=10)
    s3.seed(bucket, {f"wide/{i}.txt": b"" for i in range(50)})
    list((root / "wide").iterdir())
    assert get_s3_cache_stats()["total_entries"] <= 10
    with s3.counting() as counts:
        assert len(list((root / "wide").iterdir())) == 50
    assert only(counts)


def test_ttl_zero_means_no_caching(s3, root, bucket):
    configure_s3_cache(ttl=0)
    s3.seed(bucket, {"k.txt": b"x"})
    with s3.counting() as counts:
        for _ in range(3):
            assert (root / "k.txt").exists()
            list(root.iterdir())
    assert only(counts, ListObjectsV2=6)
    assert get_s3_cache_stats()["total_entries"] == 0


def test_writes_update_every_ancestor_listing_so_every_path_object_sees_them(s3, root, bucket):
    s3.seed(bucket, {"a/b/old.txt": b"o"})
    for directory in (root, root / "a", root / "a" / "b"):
        list(directory.iterdir())
    with s3.counting() as counts:
        Path(f"s3://{bucket}/a/b/c/new.txt").write_text("new")
        Path(f"s3://{bucket}/z/top.txt").write_text("z")
        assert [p.name for p in Path(f"s3://{bucket}/").iterdir()] == ["a", "z"]
        assert [p.name for p in Path(f"s3://{bucket}/a/b").iterdir()] == ["c", "old.txt"]
        assert Path(f"s3://{bucket}/a/b/c").is_dir()
        assert Path(f"s3://{bucket}/a/b/c/new.txt").stat().st_size == 3
    assert only(counts, PutObject=2)  # updated in place: no re-listing needed


def test_deleting_the_last_key_removes_its_implicit_directories_from_listings(s3, root, bucket):
    s3.seed(bucket, {"x/y/only.txt": b"1", "keep.txt": b"k"})
    for directory in (root, root / "x", root / "x" / "y"):
        list(directory.iterdir())
    (root / "x" / "y" / "only.txt").unlink()
    with s3.counting() as counts:
        assert [p.name for p in root.iterdir()] == ["keep.txt"]
        assert not (root / "x").exists()
    assert only(counts)
    assert s3.keys(bucket) == ["keep.txt"]


def test_unlisted_parents_are_dropped_not_guessed(s3, root, bucket):
    s3.seed(bucket, {"p/q/r.txt": b"1"})
    list(root.iterdir())  # root listing cached; p and p/q listings are not
    (root / "p" / "q" / "r.txt").unlink()
    assert [p.name for p in root.iterdir()] == []
    assert not (root / "p").exists()


@pytest.mark.parametrize("operation", ["touch", "mkdir", "rmdir", "rename", "unlink", "write", "copy", "move"])
def test_every_write_is_seen_immediately_by_other_path_objects(s3, root, bucket, operation):
    s3.seed(bucket, {"d/f.txt": b"f", "d/e/": b""})
    list(root.iterdir()), list((root / "d").iterdir()), list((root / "d" / "e").iterdir())
    d = f"s3://{bucket}/d"
    {
        "touch": lambda: Path(f"{d}/t.txt").touch(),
        "mkdir": lambda: Path(f"{d}/m").mkdir(),
        "rmdir": lambda: Path(f"{d}/e").rmdir(),
        "rename": lambda: Path(f"{d}/f.txt").rename(f"{d}/g.txt"),
        "unlink": lambda: Path(f"{d}/f.txt").unlink(),
        "write": lambda: Path(f"{d}/e/w.txt").write_bytes(b"w"),
        "copy": lambda: Path(f"{d}/f.txt").copy(f"{d}/e/c.txt"),
        "move": lambda: Path(f"{d}/f.txt").move(f"s3://{bucket}/moved.txt"),
    }[operation]()
    cached = _snapshot(root)
    clear_s3_cache()
    assert cached == _snapshot(root)


def _snapshot(root):
    """(name, is_file, is_dir) of every child of the three directories the test had listed."""
    seen = {}
    for directory in (root, root / "d", root / "d" / "e"):
        try:
            seen[directory.key] = sorted((p.name, p.is_file(), p.is_dir()) for p in directory.iterdir())
        except FileNotFoundError:
            seen[directory.key] = None
    return seen


def test_stats_count_hits_misses_evictions_and_expired_entries(s3, root, bucket):
    cache = get_s3_cache()
    now = [1000.0]
    cache._clock = lambda: now[0]
    try:
        s3.seed(bucket, {f"k{i}": b"" for i in range(3)})
        (root / "k0").exists()
        (root / "k0").exists()
        stats = get_s3_cache_stats()
        assert stats["hits"] >= 1 and stats["misses"] >= 1 and stats["total_entries"] == 1
        now[0] += 61
        assert get_s3_cache_stats()["expired_entries"] == 1
        with s3.counting() as counts:
            (root / "k0").exists()
        assert only(counts, ListObjectsV2=1)  # expired means asked again
        assert stats["default_ttl"] == 60 and stats["max_entries"] == 1000
        assert get_s3_cache_stats()["requests"] >= 2
    finally:
        del cache._clock


def test_sixteen_threads_hammering_the_shared_cache_stay_consistent(s3, root, bucket):
    s3.seed(bucket, {f"shared/{i:03d}.txt": b"0" for i in range(64)})

    def worker(n: int) -> None:
        mine = root / "shared" / f"thread-{n}.txt"
        for round_ in range(15):
            mine.write_text(f"{n}:{round_}")
            assert mine.read_text() == f"{n}:{round_}"
            assert mine.exists()
            names = {p.name for p in (root / "shared").iterdir()}
            assert mine.name in names
            assert (root / "shared" / f"{round_ % 64:03d}.txt").is_file()
        mine.unlink()
        assert not mine.exists()

    assert run_threads(worker) == []
    cached = sorted(p.name for p in (root / "shared").iterdir())
    clear_s3_cache()
    assert cached == sorted(p.name for p in (root / "shared").iterdir()) == [f"{i:03d}.txt" for i in range(64)]


def test_clear_and_invalidate(s3, root, bucket):
    s3.seed(bucket, {"a/1": b"", "b/2": b""})
    list((root / "a").iterdir()), list((root / "b").iterdir())
    get_s3_cache().invalidate_prefix(bucket, "a/")
    with s3.counting() as counts:
        list((root / "a").iterdir()), list((root / "b").iterdir())
    assert only(counts, ListObjectsV2=1)
    clear_s3_cache()
    assert get_s3_cache_stats()["total_entries"] == 0


def test_what_each_remaining_operation_costs(s3, root, bucket):
    from tfm_jupyter import commands

    s3.seed(bucket, {"d/f.txt": b"f", "d/empty/": b"", **{f"many/{i:04d}": b"" for i in range(1500)}})
    list(root.iterdir()), list((root / "d").iterdir())
    root.exists()  # the bucket is known to exist from here on
    costs = {}
    for name, action in [
        ("touch new", lambda: (root / "d" / "new.txt").touch()),
        ("touch existing", lambda: (root / "d" / "f.txt").touch()),
        ("mkdir", lambda: (root / "d" / "sub").mkdir()),
        ("rmdir", lambda: (root / "d" / "empty").rmdir()),
        ("unlink", lambda: (root / "d" / "f.txt").unlink()),
        ("info", lambda: ((root / "d" / "new.txt").info.content_type, (root / "d" / "new.txt").info.size)),
        ("versions", lambda: (root / "d" / "new.txt").versions()),
        ("rm -r 1,500", lambda: commands.rm([f"s3://{bucket}/many"], recursive=True, yes=True)),
    ]:
        with s3.counting() as counts:
            action()
        costs[name] = dict(+counts)
    assert costs == {
        "touch new": {"PutObject": 1},  # the folder was listed: no probe
        "touch existing": {},
        "mkdir": {"PutObject": 1},
        "rmdir": {"ListObjectsV2": 1, "DeleteObject": 1},  # its own (empty) listing, then the marker
        "unlink": {"DeleteObject": 1},
        "info": {"HeadObject": 1},  # once for both fields
        "versions": {"ListObjectVersions": 1},
        "rm -r 1,500": {"ListObjectsV2": 2, "DeleteObjects": 2},  # one flat listing, batches of 1,000
    }
