"""The storage-backend interface: a backend made of the core alone gets pathlib's API, copy and move
to and from S3 and local folders with S3's guarantees, and registering one takes one call."""

import os
import threading
import uuid

import pytest
from fault_proxy import FaultProxy, Rule

from conftest import only
from tfm_jupyter import Path, clear_s3_cache, configure_s3, errors, transfer
from tfm_jupyter.backends import Backend, get_backend, register_backend
from tfm_jupyter.backends.memory import MemoryBackend
from tfm_jupyter.storage_path import StoragePath

REFUSED = dict(action="status", status=403, code="AccessDenied")


@pytest.fixture
def box():
    root = Path(f"memory://box-{uuid.uuid4().hex[:12]}/")
    root.mkdir()
    return root


def seed_tree(base):
    (base / "docs" / "deep").mkdir(parents=True)
    (base / "docs" / "a.txt").write_text("alpha")
    (base / "docs" / "deep" / "c.bin").write_bytes(b"\x00" * 3000)
    (base / "top.json").write_text("{}")


def tree_of(base):
    return sorted((p.relative_to(base).as_posix(), p.read_bytes()) for p in base.rglob("*") if p.is_file())


def test_a_backend_is_its_core_the_interface_refuses_a_partial_one():
    class Partial(Backend):
        def stat(self, path):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial()
    with pytest.raises(TypeError):
        register_backend("junk", object())
    with pytest.raises(ValueError):
        register_backend("s3", MemoryBackend())


def test_memory_paths_are_paths_with_the_derived_api(box):
    seed_tree(box)
    assert isinstance(box, Path) and isinstance(box, StoragePath) and str(box).startswith("memory://")
    assert [p.name for p in box.iterdir()] == ["docs", "top.json"]
    assert [str(p.relative_to(box)) for p in box.rglob("*.txt")] == ["docs/a.txt"]
    assert [(d.name, dirs, files) for d, dirs, files in (box / "docs").walk()] == [
        ("docs", ["deep"], ["a.txt"]), ("deep", [], ["c.bin"])]
    assert (box / "docs" / "deep" / "c.bin").stat().st_size == 3000
    with (box / "docs" / "a.txt").open("a") as out:
        out.write("+beta")
    assert (box / "docs" / "a.txt").read_text() == "alpha+beta"
    with pytest.raises(FileExistsError):
        (box / "top.json").open("x")
    with pytest.raises(OSError, match="not empty"):
        (box / "docs").rmdir()
    with pytest.raises(TypeError):
        os.fspath(box / "top.json")  # never a local file name


def test_a_failed_writer_leaves_the_old_file(box):
    (box / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), (box / "keep.txt").open("w") as out:
        out.write("new")
        raise RuntimeError("the writer failed")
    assert (box / "keep.txt").read_text() == "old"


def test_copy_between_memory_s3_and_local_in_every_direction(box, root, s3, bucket, tmp_path):
    seed_tree(box)
    expected = tree_of(box)
    with s3.counting() as counts:
        transfer.copy(box, root / "up")
    assert only(counts, PutObject=3)  # one PutObject per file; folders with files need no marker
    assert tree_of(root / "up") == expected
    transfer.copy(root / "up", box / "back")
    assert tree_of(box / "back") == expected
    transfer.copy(box / "back", tmp_path / "local")
    assert tree_of(Path(tmp_path / "local")) == expected
    transfer.copy(Path(tmp_path / "local"), box / "again")
    assert tree_of(box / "again") == expected


def test_move_from_memory_to_s3_deletes_sources_only_after_every_file_arrived(box, s3, bucket):
    seed_tree(box)
    with FaultProxy(s3.endpoint_url) as proxy:
        configure_s3(endpoint_url=proxy.url, max_attempts=1)
        target = Path(f"s3://{bucket}/moved")
        proxy.add(Rule(operation="PutObject", path="a\\.txt", **REFUSED))
        with pytest.raises(errors.TransferError, match="Every source is still in place"):
            transfer.move(box, target)
        assert tree_of(box)[0][0] == "docs/a.txt" and len(tree_of(box)) == 3
        assert "moved/docs/a.txt" not in s3.keys(bucket)
        cached = sorted(str(p) for p in target.rglob("*"))  # what the cache says the failed move left
        clear_s3_cache()
        assert cached == sorted(str(p) for p in target.rglob("*"))
        proxy.clear()
        transfer.move(box / "docs", target / "docs")
    assert not (box / "docs").exists() and sorted(s3.keys(bucket, "moved/docs")) == [
        "moved/docs/a.txt", "moved/docs/deep/c.bin"]


def test_a_cancelled_stream_copy_leaves_no_partial_target(box, tmp_path):
    (box / "big.bin").write_bytes(b"x" * (3 * 2**20))  # three chunks
    cancel = threading.Event()

    def cancel_after_first_chunk(done, total, *_):
        cancel.set()

    with pytest.raises(errors.Cancelled):
        transfer.copy(box / "big.bin", tmp_path / "big.bin", progress=cancel_after_first_chunk, cancel=cancel)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary part


def test_a_user_registered_backend_needs_one_call(box):
    class Recording(MemoryBackend):
        """A memory backend that records the core calls it serves."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def open_write(self, path, *, exclusive=False):
            self.calls.append(("open_write", str(path)))
            return super().open_write(path, exclusive=exclusive)

    backend = Recording()
    register_backend("rec", backend)
    assert get_backend("rec") is backend
    (Path("rec://r/") / "x" / "y.txt").write_text("hello")
    assert backend.calls == [("open_write", "rec://r/x/y.txt")]
    assert type(Path("rec://r/x/y.txt")).__name__ == "RecPath" and Path("rec://r/x").is_dir()
    transfer.copy(Path("rec://r/x"), box / "from-rec")
    assert (box / "from-rec" / "y.txt").read_text() == "hello"


def test_any_two_backends_copy_in_parallel(tmp_path):
    """Four files must be committed at once for any of them to be: one file at a time would break the
    barrier (its wait times out) and fail the copy."""
    from toy_backend import ToyBackend

    from tfm_jupyter.backends.writers import SpooledWriter

    together = threading.Barrier(4, timeout=30)

    class Meeting(ToyBackend):
        def open_write(self, path, *, exclusive=False):
            inner = super().open_write(path, exclusive=exclusive)

            def commit(spool, size):
                together.wait()
                inner._commit(spool, size)

            return SpooledWriter(str(path), commit)

    register_backend("meeting", Meeting())
    source = Path(f"memory://m-{uuid.uuid4().hex[:8]}/")
    for n in range(8):
        (source / f"f{n}.txt").write_text(str(n))
    target = Path(f"meeting://box-{uuid.uuid4().hex[:8]}/copy")
    transfer.copy(source, target, progress=False)
    assert sorted(p.name for p in target.iterdir()) == [f"f{n}.txt" for n in range(8)]
