"""The pure path layer: parsing, validation and pathlib's pure API on S3 paths (no I/O)."""

import os
import pickle
import subprocess
import sys
from pathlib import PurePosixPath

import pytest

from tfm_jupyter import LocalPath, Path, PureS3Path, S3Path


def test_s3_uri_makes_s3_path_and_anything_else_a_real_local_path(tmp_path):
    assert isinstance(Path("s3://bkt/key"), S3Path)
    assert isinstance(Path("S3://bkt/key"), S3Path)
    local = Path(tmp_path / "x.csv")
    assert isinstance(local, LocalPath) and isinstance(local, Path)
    assert isinstance(Path("s3://bkt/key"), Path)
    assert os.fspath(local) == str(tmp_path / "x.csv")
    local.write_text("a,b\n1,2\n")
    with open(local) as handle:  # the builtin open takes it as is
        assert handle.read() == "a,b\n1,2\n"


def test_joining_segments_keeps_s3_and_an_s3_segment_resets_like_an_absolute_one():
    assert Path("s3://bkt", "k") == Path("s3://bkt/k")
    assert isinstance(Path("s3://bkt", "k"), S3Path)
    assert Path("/tmp", "s3://bkt/k") == Path("s3://bkt/k")
    assert Path("/tmp") / "s3://bkt/k" == Path("s3://bkt/k")
    assert Path("s3://bkt/a") / "b/c" == Path("s3://bkt/a/b/c")
    assert Path("s3://bkt/a/b") / "/x" == Path("s3://bkt/x")
    assert Path("s3://bkt/a") / "s3://other/z" == Path("s3://other/z")
    assert Path("s3://") / "bkt" / "k" == Path("s3://bkt/k")
    assert Path("s3://bkt/a").joinpath("b", "c.txt") == Path("s3://bkt/a/b/c.txt")


def test_os_fspath_is_the_uri_and_the_local_file_system_refuses_it(tmp_path, monkeypatch):
    import pathlib

    monkeypatch.chdir(tmp_path)
    path = Path("s3://bkt/data.csv")
    assert os.fspath(path) == "s3a://bkt/data.csv"  # what pandas is given: read through us, not pyarrow's S3
    assert Path(os.fspath(path)) == path and str(Path("s3a://bkt/data.csv")) == "s3://bkt/data.csv"
    attempts = [
        lambda: open(path, "w"), lambda: open(path, "wb"), lambda: open(path),  # noqa: SIM115
        lambda: os.makedirs(path / "sub"), lambda: os.mkdir(path), lambda: pathlib.Path(path).write_text("x"),
        lambda: os.replace(tmp_path, path), lambda: os.remove(path), lambda: open("s3://bkt/x", "w"),  # noqa: SIM115
    ]
    for attempt in attempts:
        with pytest.raises(PermissionError, match=r"'s3://[^']*' is an S3 location, not a local file"):
            attempt()
    assert list(tmp_path.iterdir()) == []  # no ./s3:/ folder, no file


def test_name_stem_suffix_follow_pathlib():
    path = Path("s3://bkt/dir/archive.tar.gz")
    assert (path.name, path.stem, path.suffix) == ("archive.tar.gz", "archive.tar", ".gz")
    assert path.suffixes == [".tar", ".gz"]
    dotfile = Path("s3://bkt/home/.bashrc")
    assert (dotfile.stem, dotfile.suffix) == (".bashrc", "")
    assert Path("s3://bkt/").name == ""


def test_parent_parents_parts_anchor():
    path = Path("s3://bkt/a/b/c.txt")
    assert path.parent == Path("s3://bkt/a/b")
    assert list(path.parents) == [Path("s3://bkt/a/b"), Path("s3://bkt/a"), Path("s3://bkt/")]
    assert path.parts == ("s3://bkt/", "a", "b", "c.txt")
    assert path.anchor == "s3://bkt/"
    assert Path("s3://bkt/").parent == Path("s3://bkt/")
    assert (path.bucket, path.key) == ("bkt", "a/b/c.txt")


def test_with_name_suffix_stem():
    assert Path("s3://bkt/d/").with_name("x") == Path("s3://bkt/x")
    assert Path("s3://bkt/d/f.csv").with_suffix(".json") == Path("s3://bkt/d/f.json")
    assert Path("s3://bkt/d/f.csv").with_stem("g") == Path("s3://bkt/d/g.csv")
    with pytest.raises(ValueError):
        Path("s3://bkt/").with_name("x")
    with pytest.raises(ValueError):
        Path("s3://bkt/d/f").with_name("a/b")


def test_trailing_slash_is_not_significant_for_equality_and_hash():
    assert Path("s3://bkt/dir/") == Path("s3://bkt/dir")
    assert hash(Path("s3://bkt/dir/")) == hash(Path("s3://bkt/dir"))
    assert str(Path("s3://bkt/dir/")) == "s3://bkt/dir"
    assert str(Path("s3://bkt")) == "s3://bkt/"
    assert len({Path("s3://bkt/a"), Path("s3://bkt/a/"), Path("s3://bkt/b")}) == 2


def test_relative_to_is_component_wise():
    assert Path("s3://bkt/a/b/c").relative_to("s3://bkt/a") == PurePosixPath("b/c")
    assert not Path("s3://bkt/ab").is_relative_to("s3://bkt/a")
    with pytest.raises(ValueError):
        Path("s3://bkt/ab").relative_to("s3://bkt/a")
    assert not Path("s3://bkt/a").is_relative_to("s3://other/a")
    assert not Path("s3://bkt/a").is_relative_to("/tmp")


def test_match_and_full_match():
    path = Path("s3://bkt/data/2024/sales.csv")
    assert path.match("*.csv")
    assert path.match("2024/*.csv")
    assert not path.match("*.json")
    assert path.match("s3://bkt/data/*/sales.csv")
    assert not path.match("s3://bkt/*.csv")
    assert path.full_match("s3://bkt/**/*.csv")


def test_ordering_and_equality_with_strings_and_local_paths():
    assert sorted([Path("s3://bkt/b"), Path("s3://bkt/a"), Path("s3://abc/z")]) == [
        Path("s3://abc/z"), Path("s3://bkt/a"), Path("s3://bkt/b")]
    assert Path("s3://bkt/a") != "s3://bkt/a"
    assert Path("s3://bkt/a") != Path("/bkt/a")
    with pytest.raises(TypeError):
        _ = Path("s3://bkt/a") < Path("/tmp")


def test_keys_are_literal_empty_and_dot_components_survive_a_round_trip():
    for text in ("s3://bkt/a//b", "s3://bkt/./x", "s3://bkt/a/../c", "s3://bkt//lead", "s3://bkt/a//"):
        path = Path(text)
        assert Path(str(path)) == path
    assert Path("s3://bkt/a//b") != Path("s3://bkt/a/b")
    assert Path("s3://bkt/a//b").key == "a//b"
    assert Path("s3://bkt/a//").key == "a/"  # the object whose key ends in '/'
    assert Path("s3://bkt//lead").key == "/lead"


def test_empty_components_do_not_recurse_forever():
    deep = Path("s3://bkt/" + "/" * 500 + "x")
    assert deep.name == "x"
    assert len(deep.parents) == 501
    assert deep.parents[-1] == Path("s3://bkt/")


@pytest.mark.parametrize("bad", ["s3://a/k", "s3://bad bucket/k", "s3://-bkt/k", "s3:///k", "s3://bkt..x/k",
                                 "s3://192.168.1.1/k"])
def test_invalid_bucket_names_raise_value_error_at_construction(bad):
    with pytest.raises(ValueError, match="bucket"):
        Path(bad)


def test_keys_over_1024_bytes_or_not_utf8_raise_value_error():
    Path("s3://bkt/" + "k" * 1024)
    with pytest.raises(ValueError, match="1024"):
        Path("s3://bkt/" + "k" * 1025)
    with pytest.raises(ValueError, match="1024"):
        Path("s3://bkt/" + "é" * 513)  # 1026 bytes in UTF-8
    with pytest.raises(ValueError, match="1024"):
        Path("s3://bkt/" + "k" * 1000) / ("j" * 30)
    with pytest.raises(ValueError, match="UTF-8"):
        Path("s3://bkt/\udc80")


def test_pure_s3_path_has_no_io_and_pickles():
    pure = PureS3Path("s3://bkt/a/b.txt")
    assert not hasattr(pure, "read_bytes")
    assert pickle.loads(pickle.dumps(Path("s3://bkt/a b/c#d+e.txt"))) == Path("s3://bkt/a b/c#d+e.txt")
    assert repr(Path("s3://bkt/x")) == "S3Path('s3://bkt/x')"
    assert Path("s3://bkt/x").as_uri() == "s3://bkt/x"


def test_local_path_keeps_pathlib_behaviour(tmp_path):
    local = Path(tmp_path)
    assert (local / "a").parent == local
    assert isinstance(local / "a", LocalPath)
    assert isinstance(local.parent, LocalPath)
    assert Path("~").expanduser() == LocalPath.home()
    assert Path.cwd() == LocalPath(os.getcwd())


ONE_SLASH_SESSION = r'''
import os, sys
import tfm_jupyter, pandas as pd
from tfm_jupyter import Path
said = []
for attempt in (lambda: Path("s3:/scratch/typo/out.csv").write_text("x"), lambda: Path("gs:/lake", "x.csv"),
                lambda: Path("S3A:/bkt/k"), lambda: open("s3:/scratch/x.csv", "w"),
                lambda: pd.read_csv("az:/box/x.csv"),
                lambda: os.makedirs("sftp:/host/dir"), lambda: pd.DataFrame({"a": [1]}).to_csv("s3:/scratch/x.csv")):
    try:
        attempt()
        said.append("nothing")
    except Exception as exc:
        said.append(f"{type(exc).__name__}: {exc}")
print("\n".join(said))
'''


def test_one_slash_names_are_refused_with_the_uri_meant_from_the_first_line_of_a_session(tmp_path):
    run = subprocess.run([sys.executable, "-c", ONE_SLASH_SESSION], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    said = run.stdout.splitlines()
    assert run.returncode == 0 and len(said) == 7, run.stderr
    assert "did you mean Path('s3://scratch/typo/out.csv')" in said[0] and said[0].startswith("ValueError")
    assert "did you mean Path('gs://lake')" in said[1] and "did you mean Path('s3://bkt/k')" in said[2]
    assert said[3].startswith("NotLocal") and "Path('s3://scratch/x.csv')" in said[3]
    assert said[4].startswith("NotLocal") and "Path('az://box/x.csv')" in said[4]
    assert said[5].startswith("NotLocal") and "'sftp://'" in said[5]
    assert said[6].startswith("OSError")  # pandas refuses: its parent folder `s3:` does not exist here
    assert list(tmp_path.iterdir()) == []  # nothing was written on the local disk


def test_names_that_only_look_like_schemes_stay_local():
    assert str(Path("notes:/x")) == "notes:/x" and str(Path("/tmp/s3:/x")) == "/tmp/s3:/x"
    assert str(Path("s3://bkt/k")) == "s3://bkt/k" and str(Path("s3a://bkt/k")) == "s3://bkt/k"
