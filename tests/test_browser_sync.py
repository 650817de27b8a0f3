"""The browser's compare (=) and synchronize (+), kernel side, against the real S3 endpoint."""

import os
import time

from faults import Fault, Gate, faults
from widget_driver import User, press

from conftest import only
from tfm_jupyter import Path
from tfm_jupyter.browser import browse
from tfm_jupyter.browser.compare import pane_marks
from tfm_jupyter.entries import ObjectInfo

OLD = time.time() - 86400 * 5


def info(size, mtime):
    return ObjectInfo(is_file=True, is_dir=False, size=size, mtime=mtime)


def test_marks_only_newer_and_differs_by_top_level_name():
    left = {("same.txt",): info(1, 100), ("only-left.txt",): info(1, 100), ("newer.txt",): info(2, 200),
            ("bigger.txt",): info(9, 100), ("dir", "x.txt"): info(1, 100), ("ldir", "y"): info(1, 1)}
    right = {("same.txt",): info(1, 100), ("newer.txt",): info(2, 100), ("bigger.txt",): info(3, 100),
             ("dir", "x.txt"): info(1, 100), ("dir", "z.txt"): info(1, 100), ("r.txt",): info(1, 1)}
    left_marks, right_marks, counts = pane_marks(left, right)
    assert left_marks == {"only-left.txt": "only", "newer.txt": "newer", "bigger.txt": "differs", "dir": "differs",
                          "ldir": "only"}
    assert right_marks == {"bigger.txt": "differs", "dir": "differs", "r.txt": "only"}
    assert counts == {"only left": 2, "only right": 2, "newer left": 1, "differ in size": 1}


def seed_panes(s3, bucket, tmp_path):
    """S3 on the left, a local folder on the right, with one of each kind of difference."""
    s3.seed(bucket, {"left/same.txt": b"same", "left/changed.txt": b"longer text", "left/only-left.txt": b"L",
                     "left/sub/deep.txt": b"deep"})
    local = tmp_path / "right"
    (local / "sub").mkdir(parents=True)
    for name, data in {"same.txt": b"same", "changed.txt": b"short", "only-right.txt": b"R"}.items():
        (local / name).write_bytes(data)
        os.utime(local / name, (OLD, OLD))
    return f"s3://{bucket}/left", local


def test_compare_marks_both_panes_from_one_listing_each(tmp_path, s3, bucket):
    left, right = seed_panes(s3, bucket, tmp_path)
    b = browse(left, right)
    b.wait()
    with s3.counting() as counts:
        press(b, "compare")
    assert only(counts, ListObjectsV2=1)  # the left tree; the local side costs nothing
    assert b.compare["left"] == {"cwd": left, "marks": {"changed.txt": "differs", "only-left.txt": "only",
                                                        "sub": "only", "same.txt": "newer"}}
    assert b.compare["right"]["marks"] == {"changed.txt": "differs", "only-right.txt": "only"}
    assert "2 only left" in b.message["text"]
    press(b, "open", "right")  # any navigation ends the comparison's marks
    assert b.compare == {}


def test_synchronize_shows_the_plan_and_runs_it_as_a_job(tmp_path, s3, bucket):
    left, right = seed_panes(s3, bucket, tmp_path)
    b = browse(left, right)
    b.wait()
    user = User(b, ("Left → right", None, True))
    with s3.counting() as counts:
        press(b, "synchronize")
    user.stop()
    message = user.seen[0]["message"]
    assert "Left → right: copy 4 files" in message and "also delete 1 file" in message
    assert "Right → left: copy 2 files" in message and user.seen[0]["checkbox"]
    assert counts["ListObjectsV2"] == 2 and counts["GetObject"] == 4 and not counts["PutObject"]
    assert sorted(p.name for p in Path(right).rglob("*") if p.is_file()) == ["changed.txt", "deep.txt", "only-left.txt",
                                                                             "same.txt"]
    assert (right / "changed.txt").read_bytes() == b"longer text"
    assert "copied 4" in b.message["text"] and "deleted 1" in b.message["text"] and b.job == {}


def test_cancelling_a_synchronize_leaves_no_partial_file(tmp_path, s3, bucket):
    s3.seed(bucket, {"left/big.bin": os.urandom(2 * 2**20)})
    (tmp_path / "right").mkdir()
    b = browse(f"s3://{bucket}/left", tmp_path / "right")
    b.wait()
    gate = Gate()
    with faults(s3, Fault(operation="GetObject", hold=gate)):
        user = User(b, ("Left → right", None, False))
        b._on_message(b, {"action": "synchronize", "pane": "left"}, [])
        assert gate.arrived(1)
        b._on_message(b, {"action": "cancel", "pane": "left"}, [])
        gate.release()
        b.wait()
        user.stop()
    assert "cancelled" in b.message["text"]
    assert list((tmp_path / "right").iterdir()) == []
