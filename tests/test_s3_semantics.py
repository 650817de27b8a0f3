"""What users rely on, against the real S3 endpoint: directories, files, open modes, errors."""

import io

import pytest

from conftest import only
from tfm_jupyter import Path, errors


def test_mkdir_creates_a_marker_and_follows_pathlib(s3, root, bucket):
    folder = root / "new-folder"
    Path(f"s3://{bucket}/new-folder/").mkdir()
    assert s3.keys(bucket) == ["new-folder/"]
    assert folder.is_dir() and not folder.is_file()
    with pytest.raises(FileExistsError):
        folder.mkdir()
    folder.mkdir(exist_ok=True)
    (root / "file.txt").write_text("x")
    with pytest.raises(FileExistsError):
        (root / "file.txt").mkdir(exist_ok=True)


def test_mkdir_needs_parents_and_an_existing_bucket(s3, root, bucket):
    with pytest.raises(FileNotFoundError, match="parents=True"):
        (root / "a" / "b").mkdir()
    (root / "a" / "b").mkdir(parents=True)
    assert s3.keys(bucket) == ["a/", "a/b/"]
    with pytest.raises(FileNotFoundError, match="bucket"):
        Path("s3://no-such-bucket-tfm/x/").mkdir()
    with pytest.raises(FileNotFoundError, match="bucket"):
        Path("s3://no-such-bucket-tfm/x/y").mkdir(parents=True)


def test_rmdir_removes_only_empty_directories(s3, root, bucket):
    (root / "empty").mkdir()
    (root / "full").mkdir()
    (root / "full" / "f.txt").write_text("data")
    (root / "empty").rmdir()
    assert not (root / "empty").exists()
    with pytest.raises(OSError, match="not empty") as info:
        (root / "full").rmdir()
    assert info.value.errno == 39  # ENOTEMPTY
    with pytest.raises(FileNotFoundError):
        (root / "missing").rmdir()
    with pytest.raises(NotADirectoryError):
        (root / "full" / "f.txt").rmdir()
    assert s3.keys(bucket) == ["full/", "full/f.txt"]


def test_exists_and_is_dir_are_false_without_exceptions(root):
    assert not (root / "nope").exists()
    assert not Path(f"{root}nope/").is_dir()
    assert not Path("s3://no-such-bucket-tfm/key").exists()
    assert not Path("s3://no-such-bucket-tfm/").is_dir()
    assert not Path("s3://no-such-bucket-tfm/key").is_file()


def test_iterdir_errors_and_marker_is_not_a_child(s3, root, bucket):
    s3.seed(bucket, {"d/": b"", "d/a.txt": b"a", "d/sub/b.txt": b"b", "f.txt": b"f"})
    assert sorted(p.name for p in (root / "d").iterdir()) == ["a.txt", "sub"]
    with pytest.raises(FileNotFoundError):
        (root / "missing").iterdir()
    with pytest.raises(NotADirectoryError):
        (root / "f.txt").iterdir()
    with pytest.raises(FileNotFoundError):
        Path("s3://no-such-bucket-tfm/").iterdir()


def test_iterdir_yields_each_child_once_across_pages(s3, root, bucket):
    keys = {f"many/{i:05d}.bin": b"" for i in range(1105)}
    keys.update({f"many/sub{i:03d}/x": b"" for i in range(30)})
    s3.seed(bucket, keys)
    names = [p.name for p in (root / "many").iterdir()]
    assert len(names) == len(set(names)) == 1135


def test_a_name_that_is_both_object_and_prefix_is_both(s3, root, bucket):
    s3.seed(bucket, {"both": b"file", "both/inner": b"x"})
    both = root / "both"
    assert both.is_file() and both.is_dir()
    assert [p.name for p in root.iterdir()] == ["both"]
    assert both.read_bytes() == b"file"


def test_every_read_text_returns_the_content(root):
    path = root / "t.txt"
    path.write_text("first\n")
    assert path.read_text() == "first\n"
    assert path.read_text() == "first\n"
    path.write_text("second\r\nline")
    assert path.read_text() == "second\nline"  # universal newlines, like pathlib
    assert path.read_bytes() == b"second\r\nline"


def test_touch_keeps_existing_content_and_creates_missing(s3, root, bucket):
    path = root / "keep.txt"
    path.write_text("precious")
    path.touch()
    assert path.read_text() == "precious"
    assert s3.body(bucket, "keep.txt") == b"precious"
    with pytest.raises(FileExistsError):
        path.touch(exist_ok=False)
    (root / "new.txt").touch()
    assert s3.body(bucket, "new.txt") == b""


def test_unlink(s3, root, bucket):
    path = root / "gone.txt"
    path.write_bytes(b"x")
    path.unlink()
    assert s3.keys(bucket) == []
    with pytest.raises(FileNotFoundError):
        path.unlink()
    path.unlink(missing_ok=True)
    (root / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        (root / "dir").unlink()


def test_open_modes_append_exclusive_and_atomic_write(s3, root, bucket):
    path = root / "log.txt"
    with path.open("w") as handle:
        handle.write("one\n")
    with path.open("a") as handle:
        handle.write("two\n")
    assert path.read_text() == "one\ntwo\n"
    with pytest.raises(FileExistsError):
        path.open("x")
    with (root / "fresh.txt").open("x") as handle:
        handle.write("new")
    assert s3.body(bucket, "fresh.txt") == b"new"
    with pytest.raises(RuntimeError), path.open("w") as handle:
        handle.write("half-written garbage")
        raise RuntimeError("the notebook cell failed")
    assert s3.body(bucket, "log.txt") == b"one\ntwo\n"
    with pytest.raises(ValueError, match="in place"):
        path.open("r+")


def test_binary_writer_discards_on_error_too(s3, root, bucket):
    path = root / "data.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyError), path.open("wb") as handle:
        handle.write(b"new bytes")
        raise KeyError("boom")
    assert s3.body(bucket, "data.bin") == b"old"


def test_open_rb_is_seekable_and_reads_ranges_without_the_whole_object(s3, root, bucket):
    data = bytes(range(256)) * 4096  # 1 MiB
    s3.seed(bucket, {"big.bin": data})
    with s3.counting() as counts, (root / "big.bin").open("rb", buffering=0) as handle:
        handle.seek(1000)
        assert handle.read(10) == data[1000:1010]
        handle.seek(-16, io.SEEK_END)
        assert handle.read() == data[-16:]
        assert handle.tell() == len(data)
    # the open stream serves the short forward seek; the tail costs one ranged GET; no HEAD, no full read
    assert only(counts, GetObject=2)


def test_text_mode_reads_lines(root):
    (root / "lines.txt").write_text("a\nb\nc\n")
    with (root / "lines.txt").open() as handle:
        assert [line.rstrip() for line in handle] == ["a", "b", "c"]


def test_reading_a_directory_or_missing_key(root):
    (root / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        (root / "d").read_bytes()
    with pytest.raises(IsADirectoryError):
        root.read_bytes()
    with pytest.raises(FileNotFoundError):
        (root / "nope.txt").read_text()
    with pytest.raises(FileNotFoundError):
        (root / "nope.txt").open("rb")


def test_stat_reports_size_mtime_etag(s3, root, bucket):
    (root / "s.txt").write_bytes(b"12345")
    listed = next(iter(root.iterdir())).stat()
    assert listed.st_size == 5 and listed.etag and listed.st_mtime > 1.6e9
    with pytest.raises(FileNotFoundError):
        (root / "missing").stat()
    assert (root / "s.txt").samefile(f"s3://{bucket}/s.txt")
    assert not (root / "s.txt").samefile("/etc/hostname")


def test_glob_rglob_walk(s3, root, bucket):
    s3.seed(bucket, {"a.csv": b"", "b.json": b"", "d/c.csv": b"", "d/e/f.csv": b"", "d/e/g.txt": b"",
                     ".hidden.csv": b""})
    names = lambda paths: sorted(str(p.relative_to(root)) for p in paths)  # noqa: E731
    assert names(root.glob("*.csv")) == [".hidden.csv", "a.csv"]
    assert names(root.glob("d/*.csv")) == ["d/c.csv"]
    assert names(root.rglob("*.csv")) == [".hidden.csv", "a.csv", "d/c.csv", "d/e/f.csv"]
    assert names(root.glob("*/")) == ["d"]
    assert names(root.glob("**/e")) == ["d/e"]
    assert names(root.glob("*/*/*.txt")) == ["d/e/g.txt"]
    walked = [(str(p.relative_to(root)), dirs, files) for p, dirs, files in root.walk()]
    assert walked == [(".", ["d"], [".hidden.csv", "a.csv", "b.json"]), ("d", ["e"], ["c.csv"]),
                      ("d/e", [], ["f.csv", "g.txt"])]
    pruned = []
    for path, dirs, _ in root.walk():
        pruned.append(path.name)
        dirs.clear()
    assert pruned == [""]
    bottom_up = [str(p.relative_to(root)) for p, _, _ in root.walk(top_down=False)]
    assert bottom_up == ["d/e", "d", "."]


def test_rename_and_replace_are_moves_within_s3(s3, root, bucket):
    (root / "a.txt").write_text("A")
    (root / "b.txt").write_text("B")
    result = (root / "a.txt").rename(f"s3://{bucket}/renamed.txt")
    assert result == root / "renamed.txt"
    assert s3.keys(bucket) == ["b.txt", "renamed.txt"]
    (root / "b.txt").replace(root / "renamed.txt")
    assert s3.keys(bucket) == ["renamed.txt"]
    assert (root / "renamed.txt").read_text() == "B"
    with pytest.raises(ValueError, match="with_name"):
        (root / "renamed.txt").rename("other.txt")


def test_resolve_absolute_expanduser_as_uri(root):
    path = root / "x"
    assert path.resolve() is path and path.absolute() is path and path.expanduser() is path
    with pytest.raises(FileNotFoundError):
        path.resolve(strict=True)


def test_symlinks_and_owners_are_unsupported(root):
    with pytest.raises(errors.UnsupportedOperation):
        (root / "x").symlink_to("y")
    with pytest.raises(NotImplementedError):
        (root / "x").owner()
    assert not (root / "x").is_symlink()
    (root / "x").chmod(0o600)  # S3 has no permission bits: a documented no-op


def test_bucket_root_mkdir_and_rmdir_create_and_remove_buckets(s3):
    fresh = Path(f"s3://tfm-made-{s3.new_bucket('tmp')[-8:]}/")
    assert not fresh.exists()
    fresh.mkdir()
    assert fresh.is_dir()
    assert fresh.bucket in [p.bucket for p in Path("s3://").iterdir()]
    fresh.rmdir()
    assert not fresh.exists()
