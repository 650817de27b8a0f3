"""The browser's kernel side against the real S3 endpoint: listing, navigation, and every action.

The front end is played by sending the messages it sends (``_on_message``) and answering dialogs
from a thread, as a user would click; effects are checked at the server.
"""


import json

import pytest
from faults import Fault, Gate, faults
from widget_driver import User, focus, names, opened, press

from conftest import only
from tfm_jupyter import Path
from tfm_jupyter.browser import browse


@pytest.fixture
def tree(s3, bucket):
    s3.seed(bucket, {"src/a.txt": b"A", "src/b.csv": b"1,2", "src/sub/c.txt": b"C", "dst/b.csv": b"old"})
    return bucket


def test_panes_list_s3_and_local_and_the_bucket_list(tmp_path, s3, tree):
    (tmp_path / "local.txt").write_text("x")
    b = browse(f"s3://{tree}/src", tmp_path)
    b.wait()
    assert names(b.left) == ["a.txt", "b.csv", "sub"] and names(b.right) == ["local.txt"]
    assert b.left_state["complete"] and b.left_state["cwd"] == f"s3://{tree}/src"
    assert b.left.focus == "sub"  # directories first
    press(b, "cd", "right", path="s3://")
    assert tree in names(b.right)
    assert repr(b) == f"Browser(left='s3://{tree}/src', right='s3://')"


def test_open_parent_and_the_path_bar(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    press(b, "open")
    assert b.left_state["cwd"] == f"s3://{tree}/src/sub" and names(b.left) == ["c.txt"]
    press(b, "parent")
    assert b.left_state["cwd"] == f"s3://{tree}/src" and b.left.focus == "sub"
    press(b, "parent")
    press(b, "parent")
    assert b.left_state["cwd"] == "s3://" and b.left.focus == tree
    press(b, "cd", path=f"s3://{tree}/nope")
    assert b.message["level"] == "error" and "FileNotFoundError" in b.message["text"]
    assert b.left_state["cwd"] == "s3://"
    press(b, "cd", path=f"s3://{tree}/src/a.txt")
    assert "is a file, not a folder" in b.message["text"]


def test_a_typed_location_that_is_not_there_says_why_and_the_next_success_clears_it(s3, tree, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    b = browse(f"s3://{tree}/src", tmp_path)
    b.wait()
    typo = tree[:-1] + ("x" if tree[-1] != "x" else "y")
    press(b, "cd", path=f"s3://{typo}/src")
    assert b.message["text"].startswith("cd: FileNotFoundError: [Errno 2] No such bucket")
    assert f"did you mean 's3://{tree}/'" in b.message["text"] and b.left_state["cwd"] == f"s3://{tree}/src"
    press(b, "cd", path=f"{tree}/src")  # typed without s3://, and no such local folder
    assert f"on S3 it would be s3://{tree}/src" in b.message["text"]
    press(b, "cd", path=f"s3://{tree}/src/sub")
    b.wait()
    assert b.message == {} and names(b.left) == ["c.txt"]  # an old error is not left standing


def test_reopening_a_folder_is_served_from_the_cache(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    press(b, "open")
    with s3.counting() as counts:
        press(b, "parent")
        press(b, "open")
    assert only(counts) and b.left_state["cached"]


def test_copy_with_confirmation_and_a_conflict(s3, tree):
    b = browse(f"s3://{tree}/src", f"s3://{tree}/dst")
    b.wait()
    focus(b, "left", "a.txt", selection=["a.txt", "b.csv"])
    user = User(b, ("Copy", None, False), ("Rename", None, False))
    press(b, "copy")
    user.stop()
    assert [d["kind"] for d in user.seen] == ["confirm", "conflict"]
    assert "b.csv already exists" in user.seen[1]["title"]
    assert s3.keys(tree, "dst/") == ["dst/a.txt", "dst/b (1).csv", "dst/b.csv"]
    assert s3.body(tree, "dst/b.csv") == b"old" and s3.body(tree, "dst/b (1).csv") == b"1,2"
    assert names(b.right) == ["a.txt", "b (1).csv", "b.csv"]
    assert "Copied 2 items" in b.message["text"]


def test_conflict_overwrite_for_all_and_cancel(s3, tree):
    s3.seed(tree, {"dst/a.txt": b"old a"})
    b = browse(f"s3://{tree}/src", f"s3://{tree}/dst")
    b.wait()
    focus(b, "left", "a.txt", selection=["a.txt", "b.csv"])
    user = User(b, ("Copy", None, False), ("Cancel", None, False))
    press(b, "copy")
    user.stop()
    assert s3.body(tree, "dst/a.txt") == b"old a"
    user = User(b, ("Copy", None, False), ("Overwrite", None, True))
    press(b, "copy")
    user.stop()
    assert len(user.seen) == 2  # "apply to all" answered the second conflict
    assert (s3.body(tree, "dst/a.txt"), s3.body(tree, "dst/b.csv")) == (b"A", b"1,2")


def test_move_to_local_and_delete(tmp_path, s3, tree):
    b = browse(f"s3://{tree}/src", tmp_path)
    b.wait()
    focus(b, "left", "sub")
    user = User(b, ("Move", None, False))
    press(b, "move")
    user.stop()
    assert (tmp_path / "sub" / "c.txt").read_text() == "C"
    assert s3.keys(tree, "src/") == ["src/a.txt", "src/b.csv"] and names(b.left) == ["a.txt", "b.csv"]
    focus(b, "left", "a.txt", selection=["a.txt", "b.csv"])
    user = User(b, ("Cancel", None, False), ("Delete", None, False))
    press(b, "delete")
    assert s3.keys(tree, "src/") == ["src/a.txt", "src/b.csv"]
    press(b, "delete")
    user.stop()
    assert s3.keys(tree, "src/") == [] and names(b.left) == []


def test_rename_mkdir_newfile_and_bad_names(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    focus(b, "left", "a.txt")
    user = User(b, ("Rename", "renamed.txt", False), ("Create", "made", False), ("Create", "empty.txt", False),
                ("Create", "bad/name", False), ("Rename", "b.csv", False))
    press(b, "rename")
    press(b, "mkdir")
    press(b, "newfile")
    press(b, "newfile")
    assert "not a valid name" in b.message["text"]
    focus(b, "left", "renamed.txt")
    press(b, "rename")
    assert "already exists" in b.message["text"]
    user.stop()
    assert s3.keys(tree, "src/") == ["src/b.csv", "src/empty.txt", "src/made/", "src/renamed.txt", "src/sub/c.txt"]
    assert b.left.focus == "empty.txt" or "empty.txt" in names(b.left)


def test_preview_text_image_and_metadata(s3, tree):
    from tfm_jupyter.demo import _png

    s3.seed(tree, {"p/notes.md": b"# title\n" + b"line\n" * 5000, "p/pic.png": _png(8, 8, (1, 2, 3)),
                   "p/blob.bin": b"\x00" * 10})
    b = browse(f"s3://{tree}/p", "s3://")
    b.wait()
    with s3.counting() as counts:
        preview = opened(b, "left", "notes.md")
    assert preview["kind"] == "text" and preview["text"].startswith("# title\nline") and preview["text"].endswith("…")
    assert preview["meta"]["content type"] == "text/markdown" or preview["meta"]["content type"]
    assert counts["GetObject"] == 1 and counts["HeadObject"] == 1  # one ranged GET, capped, plus metadata
    assert opened(b, "left", "pic.png")["image"].startswith("data:image/png;base64,iVBOR")
    assert opened(b, "left", "blob.bin")["kind"] == "meta" and b.preview["meta"]["size"] == "10 B"


def test_json_previews_laid_out_to_read_and_json_lines_record_by_record(s3, tree):
    records = [{"id": i, "tags": ["a", "b"], "name": f"n{i}"} for i in range(30)]
    s3.seed(tree, {"j/doc.json": json.dumps({"a": {"b": [1, 2]}}).encode(),
                   "j/events.jsonl": "\n".join(json.dumps(r) for r in records).encode() + b"\nnot json\n",
                   "j/cut.json": b'{"x": "' + b"y" * 70_000 + b'"}'})
    b = browse(f"s3://{tree}/j", f"s3://{tree}/")
    b.wait()
    doc = opened(b, "left", "doc.json")
    assert doc["text"] == '{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}' and doc["format"] == "json"
    events = opened(b, "left", "events.jsonl")["text"]
    assert events.startswith('{\n  "id": 0,\n  "tags": [\n') and events.count('"id"') == 20  # the first records
    cut = opened(b, "left", "cut.json")  # a document cut at 64 KiB cannot be laid out: shown as it is
    assert "format" not in cut and cut["text"].startswith('{"x": "yyy') and cut["text"].endswith("…")


def test_preview_of_csv_and_parquet_as_tables_from_ranged_reads(s3, tree):
    import io
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 50_000
    table = pa.table({"id": range(rows), "blob": [os.urandom(16).hex() for _ in range(rows)]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=5_000)
    csv = b"region,amount\n" + b"".join(b"eu,%d\n" % n for n in range(20_000))
    s3.seed(tree, {"t/big.parquet": buffer.getvalue(), "t/sales.csv": csv})
    b = browse(f"s3://{tree}/t", "s3://")
    b.wait()
    with s3.counting() as counts:
        preview = opened(b, "left", "big.parquet")
    assert preview["kind"] == "table" and preview["table"]["columns"] == ["id", "blob"]
    assert preview["table"]["rows"][:2] == [["0", table["blob"][0].as_py()], ["1", table["blob"][1].as_py()]]
    assert len(preview["table"]["rows"]) == 20 and preview["table"]["more"]
    assert preview["meta"]["rows"] == "50,000" and preview["meta"]["row groups"] == 10
    assert "id: int64" in preview["meta"]["schema"]
    assert counts["HeadObject"] == 1 and counts["GetObject"] <= 4  # footer and one row group, by range
    with s3.counting() as counts:
        table_csv = opened(b, "left", "sales.csv")["table"]
    assert b.preview["kind"] == "table" and table_csv["columns"] == ["region", "amount"]
    assert table_csv["rows"][:2] == [["eu", "0"], ["eu", "1"]] and table_csv["more"]
    assert counts["GetObject"] == 1  # one ranged GET of the head


def test_cancel_from_the_widget_leaves_nothing_partial(tmp_path, s3, bucket):
    import os

    (tmp_path / "big.bin").write_bytes(os.urandom(24 * 2**20))  # multipart: 3 parts of 8 MiB
    b = browse(tmp_path, f"s3://{bucket}/")
    b.wait()
    focus(b, "left", "big.bin")
    gate = Gate()
    with faults(s3, Fault(operation="UploadPart", hold=gate)):
        user = User(b, ("Copy", None, False))
        b._on_message(b, {"action": "copy", "pane": "left"}, [])
        assert gate.arrived(1)  # the upload is under way and cannot finish before the cancel
        b._on_message(b, {"action": "cancel", "pane": "left"}, [])
        gate.release()
        b.wait()
        user.stop()
    assert "cancelled" in b.message["text"]
    assert s3.keys(bucket) == [] and s3.pending_uploads(bucket) == []
    assert b.job == {}
    assert names(b.right) == [] and not Path(f"s3://{bucket}/big.bin").exists()


def test_errors_show_in_the_status_area_and_the_widget_keeps_working(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    focus(b, "left", "a.txt")
    press(b, "copy")  # the other pane is the bucket list
    assert b.message["level"] == "error" and "bucket list" in b.message["text"]
    press(b, "no-such-action")
    assert "unknown action" in b.message["text"]
    press(b, "cd", path="s3://no-such-bucket-tfm/")
    assert b.message["level"] == "error"
    press(b, "cd", path=f"s3://{tree}/src/sub")
    assert names(b.left) == ["c.txt"]


def test_selected_and_live_cwd(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    focus(b, "left", "b.csv", selection=["a.txt", "b.csv"])
    assert b.selected == [Path(f"s3://{tree}/src/a.txt"), Path(f"s3://{tree}/src/b.csv")]
    assert b.left.cwd == Path(f"s3://{tree}/src")
    focus(b, "left", "b.csv")
    assert b.selected == [Path(f"s3://{tree}/src/b.csv")]


def test_the_selection_travels_apart_from_the_cursor(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    focus(b, "left", "b.csv", selection=["a.txt", "b.csv"])
    assert b.left_selection == {"listing": b.left.listing, "names": ["a.txt", "b.csv"]}
    changed = []
    b.observe(lambda change: changed.append(change["name"]), names=["left_state", "left_selection"])
    press(b, "state", state={"focus": "a.txt", "listing": b.left.listing})  # a cursor move
    assert changed == ["left_state"] and "selection" not in b.left_state  # the 100,000 names stay put
    assert b.left.selection == {"a.txt", "b.csv"} and b.left.focus == "a.txt" and b.left_state["focus"] == "a.txt"
    press(b, "state", state={"selection": ["sub"], "listing": b.left.listing - 1})  # about an older listing
    assert b.left.selection == {"a.txt", "b.csv"}
    press(b, "state", state={"focus": "sub", "listing": b.left.listing})
    press(b, "open")
    assert b.left_selection == {"listing": b.left.listing, "names": []} and b.left.cwd.name == "sub"


def test_stale_front_end_state_is_ignored(s3, tree):
    b = browse(f"s3://{tree}/src", "s3://")
    b.wait()
    old = b.left.listing
    press(b, "open")
    press(b, "state", state={"focus": "a.txt", "listing": old})  # a keypress about the folder we already left
    assert b.left_state["cwd"] == f"s3://{tree}/src/sub" and b.left.focus == "c.txt"


def test_rows_go_out_in_bounded_messages_and_a_new_view_gets_them_all_again(s3, bucket):
    s3.seed(bucket, {f"many/{i:05d}": b"" for i in range(12000)})
    from tfm_jupyter.browser.widget import Browser

    list(Path(f"s3://{bucket}/many").iterdir())  # cached: the pane gets all 12,000 rows at once
    sent = []

    class Watched(Browser):  # the comm is the front end's only input: record what goes over it
        def send(self, content, buffers=None):
            sent.append(content)

    b = Watched(f"s3://{bucket}/many", "s3://")
    b.wait()
    rows = [m for m in sent if m.get("type") == "rows" and m["pane"] == "left"]
    assert max(len(m["rows"]) for m in rows) == 5000 and sum(len(m["rows"]) for m in rows) == 12000
    sent.clear()
    press(b, "ready")
    rows = [m for m in sent if m.get("type") == "rows" and m["pane"] == "left"]
    assert [m["reset"] for m in rows] == [True, False, False] and sum(len(m["rows"]) for m in rows) == 12000


def test_a_move_between_local_folders_is_a_rename(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "f.txt").write_text("f")
    inode = (tmp_path / "a" / "f.txt").stat().st_ino
    b = browse(tmp_path / "a", tmp_path / "b")
    b.wait()
    focus(b, "left", "f.txt")
    user = User(b, ("Move", None, False))
    press(b, "move")
    user.stop()
    assert (tmp_path / "b" / "f.txt").stat().st_ino == inode  # renamed, not copied
    assert names(b.right) == ["f.txt"] and names(b.left) == []


def test_search_results_stream_and_stop_at_ten_thousand_with_a_more_flag(s3, bucket):
    from tfm_jupyter.browser.widget import Browser

    s3.seed(bucket, {f"s/d{i % 7}/f{i:05d}.csv": b"" for i in range(10_050)})
    sent = []

    class Watched(Browser):
        def send(self, content, buffers=None):
            sent.append(content)

    b = Watched(f"s3://{bucket}/s", "s3://")
    b.wait()
    with s3.counting() as counts:
        press(b, "search", kind="name", pattern="*.csv")
    results = [m for m in sent if m.get("type") == "results"]
    assert sum(len(m["items"]) for m in results) == 10_000
    assert results[-1]["done"] and results[-1]["more"] and not any(m["more"] for m in results[:-1])
    assert len(results) > 2  # streamed in batches as they were found, not all at the end
    assert results[0]["items"][0] == "d0/f00000.csv"
    # 10,050 keys in 7 folders: the first page, then two key ranges side by side: 11, the flat chain's
    assert only(counts, ListObjectsV2=11)
    assert "found 10,000 files (and more)" in b.message["text"]
