"""One suite, three roots: wherever local files, S3 and a backend built only from the interface's core
(``memory://``) can behave the same, they must."""

import uuid

import pytest

from tfm_jupyter import Path


@pytest.fixture(params=["local", "s3", "memory"])
def base(request, tmp_path):
    if request.param == "local":
        return Path(tmp_path)
    if request.param == "memory":
        root = Path(f"memory://t-{uuid.uuid4().hex}/")
        root.mkdir()
        return root
    return Path(f"s3://{request.getfixturevalue('bucket')}/")


def rel(base, paths):
    return sorted(p.relative_to(base).as_posix() for p in paths)


def make_tree(base):
    (base / "docs").mkdir()
    (base / "docs" / "a.txt").write_text("alpha")
    (base / "docs" / "b.csv").write_text("x,y\n1,2\n")
    (base / "docs" / "deep").mkdir()
    (base / "docs" / "deep" / "c.txt").write_text("gamma")
    (base / "empty").mkdir()
    (base / "top.json").write_text("{}")


def test_write_read_roundtrip(base):
    (base / "f.bin").write_bytes(b"\x00\x01")
    (base / "f.txt").write_text("héllo wörld", encoding="utf-8")
    assert (base / "f.bin").read_bytes() == b"\x00\x01"
    assert (base / "f.txt").read_text(encoding="utf-8") == "héllo wörld"
    assert (base / "f.txt").write_text("abc") == 3
    assert (base / "f.bin").write_bytes(b"abcd") == 4


def test_exists_is_file_is_dir(base):
    make_tree(base)
    assert (base / "docs").is_dir() and not (base / "docs").is_file()
    assert (base / "docs" / "a.txt").is_file() and not (base / "docs" / "a.txt").is_dir()
    assert (base / "empty").is_dir()
    assert not (base / "nothing").exists()
    assert not (base / "nothing").is_dir() and not (base / "nothing").is_file()


def test_iterdir_names(base):
    make_tree(base)
    assert sorted(p.name for p in base.iterdir()) == ["docs", "empty", "top.json"]
    assert sorted(p.name for p in (base / "empty").iterdir()) == []
    with pytest.raises(FileNotFoundError):
        list((base / "nothing").iterdir())
    with pytest.raises(NotADirectoryError):
        list((base / "top.json").iterdir())


def test_glob_rglob(base):
    make_tree(base)
    assert rel(base, base.glob("*.json")) == ["top.json"]
    assert rel(base, base.glob("docs/*.txt")) == ["docs/a.txt"]
    assert rel(base, base.rglob("*.txt")) == ["docs/a.txt", "docs/deep/c.txt"]
    assert rel(base, base.glob("*/*/*.txt")) == ["docs/deep/c.txt"]
    assert rel(base, base.glob("nothing/*")) == []


def test_walk(base):
    make_tree(base)
    walked = sorted((p.relative_to(base).as_posix(), sorted(d), sorted(f)) for p, d, f in base.walk())
    assert walked == [(".", ["docs", "empty"], ["top.json"]), ("docs", ["deep"], ["a.txt", "b.csv"]),
                      ("docs/deep", [], ["c.txt"]), ("empty", [], [])]


def test_mkdir_rmdir_errors(base):
    (base / "d").mkdir()
    with pytest.raises(FileExistsError):
        (base / "d").mkdir()
    (base / "d").mkdir(exist_ok=True)
    with pytest.raises(FileNotFoundError):
        (base / "x" / "y").mkdir()
    (base / "x" / "y").mkdir(parents=True)
    assert (base / "x" / "y").is_dir()
    (base / "d" / "f").write_text("1")
    with pytest.raises(OSError):
        (base / "d").rmdir()
    (base / "d" / "f").unlink()
    (base / "d").rmdir()
    assert not (base / "d").exists()
    with pytest.raises(FileNotFoundError):
        (base / "d").rmdir()


def test_unlink_and_touch(base):
    with pytest.raises(FileNotFoundError):
        (base / "none").unlink()
    (base / "none").unlink(missing_ok=True)
    (base / "t").touch()
    assert (base / "t").read_bytes() == b""
    (base / "t").write_text("keep")
    (base / "t").touch()
    assert (base / "t").read_text() == "keep"
    with pytest.raises(FileExistsError):
        (base / "t").touch(exist_ok=False)


def test_open_modes(base):
    with (base / "o.txt").open("w") as handle:
        handle.write("1\n")
    with (base / "o.txt").open("a") as handle:
        handle.write("2\n")
    with (base / "o.txt").open() as handle:
        assert handle.read() == "1\n2\n"
    with pytest.raises(FileExistsError):
        (base / "o.txt").open("x")
    with (base / "o.txt").open("rb") as handle:
        handle.seek(2)
        assert handle.read() == b"2\n"
    with pytest.raises(FileNotFoundError):
        (base / "missing").open()


def test_stat_size_and_rename(base):
    (base / "s").write_bytes(b"12345")
    assert (base / "s").stat().st_size == 5
    target = (base / "s").rename(base / "r")
    assert target == base / "r"
    assert not (base / "s").exists() and (base / "r").read_bytes() == b"12345"


def test_reading_a_directory_raises_is_a_directory(base):
    (base / "dd").mkdir()
    with pytest.raises(IsADirectoryError):
        (base / "dd").read_bytes()


def test_pure_manipulation_agrees(base):
    path = base / "dir" / "file.tar.gz"
    assert (path.name, path.stem, path.suffix, path.suffixes) == ("file.tar.gz", "file.tar", ".gz", [".tar", ".gz"])
    assert path.with_suffix(".zip").name == "file.tar.zip"
    assert path.parent.name == "dir"
    assert path.relative_to(base).as_posix() == "dir/file.tar.gz"
    assert path.is_relative_to(base / "dir") and not (base / "dirx").is_relative_to(base / "dir")
    assert path.match("*.gz") and path.match("dir/*.gz")
