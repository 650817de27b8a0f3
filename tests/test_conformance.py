"""The conformance kit: one suite every storage backend runs, like fsspec's ``fsspec.tests.abstract``.

Each backend gives a fresh root folder and a way to read the truth behind the backend's back (the
S3 server's objects, the SSH and FTP servers' files on disk, the toy's dictionary): wherever local
files, S3, ``memory://``, SFTP, FTP and a backend written from the test folder alone can behave the
same, they must, and what they say must be what is there.
"""

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from toy_backend import ToyBackend

from tfm_jupyter import Path, errors, find, grep, sync
from tfm_jupyter.backends import get_backend, register_backend

BACKENDS = ["local", "s3", "memory", "sftp", "ftp", "toy", "az", "gs"]


@dataclass
class Storage:
    """A fresh root and the truth behind it: ``files()`` maps each file's path below the root to its
    bytes, as the storage itself holds them."""

    kind: str
    root: Any
    files: Any


def _disk_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def toy():
    backend = ToyBackend()
    register_backend("toy", backend)  # the one step a new backend needs
    return backend


@pytest.fixture(params=BACKENDS)
def storage(request, tmp_path):
    kind = request.param
    if kind == "local":
        return Storage(kind, Path(tmp_path), lambda: _disk_files(tmp_path))
    if kind == "memory":
        root = Path(f"memory://t-{uuid.uuid4().hex}/")
        root.mkdir()
        files = get_backend("memory")._files
        return Storage(kind, root, lambda: {"/".join(k[1:]): v[0] for k, v in list(files.items())
                                            if k[0] == root.authority})
    if kind == "s3":
        s3, bucket = request.getfixturevalue("s3"), request.getfixturevalue("bucket")
        return Storage(kind, Path(f"s3://{bucket}/"),
                       lambda: {k: s3.body(bucket, k) for k in s3.keys(bucket) if not k.endswith("/")})
    if kind == "toy":
        toy = request.getfixturevalue("toy")
        root = Path(f"toy://box-{uuid.uuid4().hex[:12]}/")
        root.mkdir()  # like a bucket: the box exists before anything is in it
        prefix = root.authority + "/"
        return Storage(kind, root, lambda: {k[len(prefix):]: v[0] for k, v in list(toy.objects.items())
                                            if k.startswith(prefix) and not k.endswith("/")})
    if kind in ("az", "gs"):
        root = request.getfixturevalue(f"{kind}_root")
        return Storage(kind, root, lambda: {k: v for k, v in _cloud_objects(root).items() if not k.endswith("/")})
    server = request.getfixturevalue("sshd" if kind == "sftp" else "ftpd")
    root = request.getfixturevalue(f"{kind}_root")
    folder = (server.root if kind == "sftp" else server.dir) / root.name
    return Storage(kind, root, lambda: _disk_files(folder))


def _cloud_objects(root):
    """The emulator's truth, read with the official SDK directly (not through our backend)."""
    if root.scheme == "az":
        container = root.backend.service(root.authority).get_container_client(root.authority)
        return {blob.name: container.download_blob(blob.name).readall() for blob in container.list_blobs()}
    client = root.backend.client(root.authority)
    return {blob.name: blob.download_as_bytes() for blob in client.list_blobs(root.authority)}


@pytest.fixture
def base(storage):
    return storage.root


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


# -- the truth behind each backend ----------------------------------------------------------------------


def test_what_is_written_is_what_the_storage_holds(storage):
    root, backend = storage.root, storage.root.backend
    backend.write_bytes(root / "a" / "b" / "deep.txt", b"deep")  # writers make missing parents
    with backend.open_write(root / "stream.bin") as handle:
        handle.write(b"\x00" * 300_000)
        handle.write(b"end")
    assert storage.files() == {"a/b/deep.txt": b"deep", "stream.bin": b"\x00" * 300_000 + b"end"}
    assert (root / "stream.bin").backend.read_range(root / "stream.bin", 299_998, 300_003) == b"\x00\x00end"
    assert b"".join((root / "stream.bin").backend.iter_bytes(root / "stream.bin", 300_000)) == b"end"


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary_one(storage):
    root, backend = storage.root, storage.root.backend
    backend.write_bytes(root / "keep.txt", b"old")
    with pytest.raises(RuntimeError), backend.open(root / "keep.txt", "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("failed while writing")
    assert storage.files() == {"keep.txt": b"old"}
    handle = backend.open_write(root / "keep.txt")
    try:
        handle.write(b"new, in a library that closes in finally")
        raise RuntimeError("failed again")
    except RuntimeError:
        pass
    finally:
        handle.close()  # an exception is propagating... no: it was handled here, so this commits
    assert storage.files() == {"keep.txt": b"new, in a library that closes in finally"}
    writer = backend.open_write(root / "keep.txt")
    with pytest.raises(RuntimeError):
        try:
            writer.write(b"never")
            raise RuntimeError("propagating")
        finally:
            writer.close()
    assert storage.files() == {"keep.txt": b"new, in a library that closes in finally"}


def test_many_threads_at_once(storage):
    root = storage.root

    def work(n):
        path = root / f"t{n % 4}" / f"f{n}.txt"
        path.backend.write_bytes(path, f"body {n}".encode())
        assert path.read_text() == f"body {n}"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.files() == {f"t{n % 4}/f{n}.txt": f"body {n}".encode() for n in range(16)}


def test_copy_move_and_delete_a_tree_inside_the_storage(storage):
    root = storage.root
    make_tree(root)
    (root / "docs").copy(root / "copy")
    (root / "copy").move(root / "moved")
    assert {k: v for k, v in storage.files().items() if k.startswith("moved/")} == {
        "moved/a.txt": b"alpha", "moved/b.csv": b"x,y\n1,2\n", "moved/deep/c.txt": b"gamma"}
    assert not (root / "copy").exists()
    from tfm_jupyter import commands

    commands.rm([str(root / "moved")], recursive=True, yes=True)
    assert not any(k.startswith(("moved/", "copy/")) for k in storage.files())


def test_sync_twice_copies_nothing_the_second_time(storage, tmp_path):
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    for name, data in {"a.txt": b"1", "sub/b.txt": b"22"}.items():
        (source / name).write_bytes(data)
    target = storage.root / "synced"
    first = sync(source, target)
    second = sync(source, target)
    assert len(first.copied) == 2 and second.copied == [] and len(second.skipped) == 2
    assert {k: v for k, v in storage.files().items() if k.startswith("synced/")} == {
        "synced/a.txt": b"1", "synced/sub/b.txt": b"22"}


def test_find_and_grep(storage):
    root = storage.root
    make_tree(root)
    assert sorted(p.relative_to(root).as_posix() for p in find(root, name="*.txt")) == [
        "docs/a.txt", "docs/deep/c.txt"]
    assert [p.name for p in find(root, contains="gam")] == ["c.txt"]
    assert [(m.path.name, m.line_number, m.line) for m in grep("1,2", root)] == [("b.csv", 2, "1,2")]


def test_names_from_elsewhere_pass_the_gate(storage):
    root = storage.root
    backend = root.backend
    if backend.literal_names:  # an object store takes every key as it is
        assert backend.join_below(root, ("..", "x")) == root.child("..", "x")
    else:  # a file system reads '..' as a walk: refused
        for parts in ((".."), ("a", ".."), ("",), ("a/b",)):
            with pytest.raises(errors.UnsafeName):
                backend.join_below(root, tuple(parts) if isinstance(parts, tuple) else (parts,))
    assert backend.join_below(root, ("ok", "name.txt")) == root / "ok" / "name.txt"


def test_an_empty_folder_exists(storage):
    (storage.root / "empty").mkdir()
    assert (storage.root / "empty").is_dir()
    assert [p.name for p in storage.root.iterdir()] == ["empty"]
    (storage.root / "empty").rmdir()
    assert not (storage.root / "empty").exists()


def test_the_browser_lists_and_copies_from_every_backend(storage, tmp_path_factory):
    from widget_driver import User, focus, names, press

    from tfm_jupyter.browser import browse

    make_tree(storage.root)
    target = tmp_path_factory.mktemp("browser-target")
    b = browse(storage.root, target)
    b.wait()
    assert names(b.left) == ["docs", "empty", "top.json"]
    focus(b, "left", "docs")
    user = User(b, ("Copy", None, False))
    press(b, "copy")
    user.stop()
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        "docs/a.txt", "docs/b.csv", "docs/deep/c.txt"]
    assert names(b.right) == ["docs"]
