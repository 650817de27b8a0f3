"""The plain functions behind the magics, without IPython."""

import time

import pytest

from tfm_jupyter import Path, commands
from tfm_jupyter.results import human_size


@pytest.fixture(autouse=True)
def _reset_cwd():
    yield
    commands.cd(None)


def test_parse_size_and_when():
    assert [commands.parse_size(t) for t in ("500", "10k", "1.5M", "2G", "3KiB")] == [
        500, 10240, int(1.5 * 2**20), 2 * 2**30, 3072]
    with pytest.raises(commands.CommandError):
        commands.parse_size("lots")
    assert abs(commands.parse_when("2d") - (time.time() - 2 * 86400)) < 5
    assert commands.parse_when("2024-01-31") == pytest.approx(
        time.mktime(time.strptime("2024-01-31", "%Y-%m-%d")))
    with pytest.raises(commands.CommandError):
        commands.parse_when("yesterday-ish")


def test_filters_follow_aws_order_last_match_wins():
    select = commands.make_filter([("exclude", "*"), ("include", "*.csv"), ("exclude", "tmp/*")])
    assert [select(p) for p in ("a.csv", "a.txt", "tmp/b.csv", "deep/x.csv")] == [True, False, False, True]
    assert commands.make_filter([]) is None


def test_resolve_and_cd(tmp_path, s3, bucket):
    s3.seed(bucket, {"a/b/c.txt": b"c"})
    assert commands.resolve("s3://x-bucket/k") == Path("s3://x-bucket/k")
    assert commands.resolve("/abs/file") == Path("/abs/file")
    commands.cd(f"s3://{bucket}/a")
    assert commands.resolve("b/c.txt") == Path(f"s3://{bucket}/a/b/c.txt")
    assert commands.resolve("../x") == Path(f"s3://{bucket}/x")
    with pytest.raises(NotADirectoryError):
        commands.cd("b/c.txt")
    commands.cd(tmp_path)
    assert commands.cwd() == Path(tmp_path)
    assert commands.cd(None) == Path.cwd()


def test_rm_refuses_many_without_yes_and_lists_them(s3, bucket):
    s3.seed(bucket, {f"d/{i}": b"" for i in range(commands.RM_CONFIRM_OVER + 1)})
    with pytest.raises(commands.ConfirmationNeeded) as info:
        commands.rm([f"s3://{bucket}/d"], recursive=True)
    assert len(info.value.report) == commands.RM_CONFIRM_OVER + 1
    assert len(s3.keys(bucket)) == commands.RM_CONFIRM_OVER + 1
    commands.rm([f"s3://{bucket}/d"], recursive=True, yes=True)
    assert s3.keys(bucket) == []


def test_rm_of_local_trees(tmp_path):
    (tmp_path / "t" / "u").mkdir(parents=True)
    (tmp_path / "t" / "u" / "f").write_text("x")
    commands.rm([str(tmp_path / "t")], recursive=True)
    assert not (tmp_path / "t").exists()


def test_human_size():
    assert [human_size(n) for n in (0, 1023, 1536, 5 * 2**30)] == ["0 B", "1023 B", "1.5 KiB", "5.0 GiB"]
