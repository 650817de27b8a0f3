"""Uploads from the laptop and downloads to it, on the kernel side: the front end is played at the
comm (what the widget sends it is received, chunks go back as binary buffers), the bytes are checked
at the S3 server, and a cancel is made at a known point (after the first chunk was written)."""

import io
import os
import zipfile

import comm
import pytest
from widget_driver import User, focus, press

from tfm_jupyter.browser import browse
from tfm_jupyter.browser.laptop import CHUNK


class FrontEnd(comm.DummyComm):
    """The web browser's side of the widget's comm: answers upload_go and upload_ack with the next
    chunk of the files being uploaded, and collects download chunks."""

    browser = None
    uploads: dict = {}
    downloads: dict = {}
    on_ack = None

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        content = (data or {}).get("content") or {}
        kind = content.get("type")
        if kind == "upload_go" and not content.get("cancel"):
            files = FrontEnd.uploads[content["id"]]
            skip = set(content.get("skip", []))
            FrontEnd.queue = [(i, o) for i, body in enumerate(files) if i not in skip
                              for o in range(0, max(len(body[1]), 1), CHUNK)]
            self._next(content["id"])
        elif kind == "upload_ack":
            if FrontEnd.on_ack is not None and FrontEnd.on_ack(content) is False:
                return
            self._next(content["id"])
        elif kind == "download_chunk" and not content.get("cancel"):
            FrontEnd.downloads.setdefault(content["name"], []).append(bytes(buffers[0]))

    def _next(self, upload_id):
        if not FrontEnd.queue:
            return
        index, offset = FrontEnd.queue.pop(0)
        body = FrontEnd.uploads[upload_id][index][1]
        last = offset + CHUNK >= len(body)
        FrontEnd.browser._on_message(FrontEnd.browser, {"action": "upload_chunk", "id": upload_id, "index": index,
                                                        "offset": offset, "last": last},
                                     [memoryview(body[offset:offset + CHUNK])])


@pytest.fixture
def front_end(monkeypatch):
    FrontEnd.uploads, FrontEnd.downloads, FrontEnd.on_ack, FrontEnd.queue = {}, {}, None, []
    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: FrontEnd(*args, **kwargs))
    return FrontEnd


def upload(b, front_end, upload_id, files, pane="left"):
    front_end.browser = b
    front_end.uploads[upload_id] = files
    press(b, "upload_start", pane, id=upload_id, files=[{"name": n, "size": len(d)} for n, d in files])
    b.wait()


def test_files_and_a_folder_arrive_whole_in_chunks_through_the_writer(s3, bucket, front_end):
    s3.seed(bucket, {"up/keep.txt": b"k"})
    b = browse(f"s3://{bucket}/up", f"s3://{bucket}/")
    b.wait()
    big = os.urandom(2 * CHUNK + 123)  # three chunks over the comm
    with s3.counting() as counts:
        upload(b, front_end, 1, [("big.bin", big), ("folder/inner/small.txt", b"small"), ("empty.txt", b"")])
    assert s3.body(bucket, "up/big.bin") == big and s3.body(bucket, "up/folder/inner/small.txt") == b"small"
    assert s3.body(bucket, "up/empty.txt") == b""
    assert counts["PutObject"] == 3 and not counts["GetObject"]  # one commit each (multipart above 64 MiB)
    assert "Uploaded 3 files" in b.message["text"] and b.job == {}
    assert "big.bin" in [row.name for row in b.left.rows]


def test_a_cancelled_upload_leaves_nothing_and_an_existing_file_keeps_its_content(s3, bucket, front_end):
    s3.seed(bucket, {"up/big.bin": b"OLD"})
    b = browse(f"s3://{bucket}/up", f"s3://{bucket}/")
    b.wait()

    def cancel_after_the_first_chunk(ack):
        b._on_message(b, {"action": "cancel", "pane": "left"}, [])  # the Cancel button, from the view
        return False  # and send nothing more, as the view does after Cancel

    front_end.on_ack = cancel_after_the_first_chunk
    user = User(b, ("Overwrite", None, False))  # big.bin is there already: the user overwrites
    upload(b, front_end, 7, [("big.bin", os.urandom(3 * CHUNK)), ("new.txt", b"new")])
    user.stop()
    assert s3.keys(bucket, "up/") == ["up/big.bin"] and s3.body(bucket, "up/big.bin") == b"OLD"
    assert s3.pending_uploads(bucket) == []
    assert "upload cancelled" in b.message["text"]


def test_names_that_would_leave_the_folder_are_refused_before_any_byte(s3, bucket, front_end):
    b = browse(f"s3://{bucket}/up", f"s3://{bucket}/")
    b.wait()
    upload(b, front_end, 3, [("../escape.txt", b"x")])
    assert s3.keys(bucket) == [] and "not uploaded" in b.message["text"]


def test_a_file_downloads_as_it_is_and_a_selection_as_one_zip(s3, bucket, front_end):
    big = os.urandom(CHUNK + 5)
    s3.seed(bucket, {"d/big.bin": big, "d/sub/a.txt": b"alpha", "d/sub/deep/b.txt": b"beta", "d/c.csv": b"c"})
    b = browse(f"s3://{bucket}/d", f"s3://{bucket}/")
    b.wait()
    focus(b, "left", "big.bin")
    press(b, "download")
    b.wait()
    assert b"".join(front_end.downloads["big.bin"]) == big and len(front_end.downloads["big.bin"]) == 2
    focus(b, "left", "sub", selection=["c.csv", "sub"])
    press(b, "download")
    b.wait()
    archive = zipfile.ZipFile(io.BytesIO(b"".join(front_end.downloads["d.zip"])))
    assert {name: archive.read(name) for name in archive.namelist()} == {
        "c.csv": b"c", "sub/a.txt": b"alpha", "sub/deep/b.txt": b"beta"}
    assert "Downloaded d.zip (3 files" in b.message["text"]


def test_a_zip_never_holds_a_name_that_walks_out_of_its_folder(s3, bucket, front_end):
    s3.seed(bucket, {"d/sub/ok.txt": b"ok", "d/sub/../evil.txt": b"evil", "d/sub/x/../../evil2.txt": b"evil"})
    b = browse(f"s3://{bucket}/d", f"s3://{bucket}/")
    b.wait()
    focus(b, "left", "sub")
    press(b, "download")
    b.wait()
    archive = zipfile.ZipFile(io.BytesIO(b"".join(front_end.downloads["sub.zip"])))
    assert archive.namelist() == ["sub/ok.txt"]
    assert "2 names no file system takes" in b.message["text"]
