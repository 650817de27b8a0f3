"""Hostile buckets and slips of the hand: nothing is written outside a target, nothing is lost, no
secret is shown.  Every case is judged on disk and at the server, never by what our code says."""

import logging
import os
import re
import sqlite3
import tempfile
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faults import Fault, Gate, faults
from widget_driver import User, focus, names, press

from tfm_jupyter import Path, commands, configure_s3, configure_s3_cache, errors, filesystem, get_s3_cache_stats, sync
from tfm_jupyter.browser import browse


def everything_below(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- a key named '..' never escapes the download folder ------------------------------------------------


@pytest.fixture
def evil(s3, bucket):
    s3.seed(bucket, {"data/good.csv": b"a,b\n", "data/../.bashrc": b"echo pwned\n"})
    return bucket


def test_iterdir_shows_the_dotdot_child_and_copying_it_anywhere_local_is_refused(evil, tmp_path):
    home, downloads = tmp_path / "home", tmp_path / "home" / "downloads"
    downloads.mkdir(parents=True)
    children = {p.name: p for p in Path(f"s3://{evil}/data").iterdir()}
    assert set(children) == {"..", "good.csv"}
    with pytest.raises(PermissionError, match="not a file name"):
        children[".."].copy_into(downloads)
    with pytest.raises(PermissionError):
        commands.cp([f"s3://{evil}/data/.."], f"{downloads}/", recursive=True)
    with pytest.raises(PermissionError):
        Path(downloads).child("..")
    assert not (home / ".bashrc").exists() and everything_below(home) == ["downloads"]


def test_the_browser_copies_the_good_rows_and_refuses_the_dotdot_one(evil, tmp_path):
    target = tmp_path / "home" / "downloads"
    target.mkdir(parents=True)
    b = browse(f"s3://{evil}/data", target)
    b.wait()
    assert names(b.left) == ["..", "good.csv"]
    b._on_message(b, {"action": "state", "pane": "left", "state": {"show_hidden": True,
                                                                   "listing": b.left.listing}}, [])
    focus(b, "left", "good.csv", selection=["..", "good.csv"])  # hidden rows shown, all selected
    user = User(b, ("Copy", None, False))
    press(b, "copy")
    user.stop()
    assert "refused" in b.message["text"] and b.message["level"] == "error"
    assert everything_below(tmp_path) == ["home", "home/downloads", "home/downloads/good.csv"]
    assert names(b.right) == ["good.csv"]  # the target pane shows what arrived


def test_the_runner_never_downloads_the_dotdot_item_outside_its_scratch_folder(evil, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    b = browse(f"s3://{evil}/data", tmp_path)
    b.wait()
    focus(b, "left", "..")
    user = User(b, ("Run", "cat .bashrc", True))
    press(b, "run")
    user.stop()
    assert user.seen[0]["checked"]  # downloading first is the default for items in storage
    assert "not a file name" in b.message["text"]
    assert everything_below(tmp_path) == ["tmp"] and everything_below(scratch) == []


def test_a_symlink_already_in_the_target_is_never_followed_out_of_it(s3, bucket, tmp_path):
    s3.seed(bucket, {"t/link/evil.txt": b"planted", "t/ok.txt": b"fine"})
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "link").symlink_to("../outside")
    with pytest.raises(errors.TransferError) as info:
        Path(f"s3://{bucket}/t").copy(out, progress=False)
    assert list(info.value.failures) == [f"s3://{bucket}/t/link/evil.txt"]
    assert "symlink" in str(info.value.failures[f"s3://{bucket}/t/link/evil.txt"])
    assert everything_below(outside) == [] and (out / "ok.txt").read_bytes() == b"fine"


LOOKALIKES = {
    "t/\u2024\u2024/x.txt": b"one dot leaders",  # two ONE DOT LEADERs: a name, not a walk
    "t/\uff0e\uff0e/y.txt": b"fullwidth dots",
    "t/..\\..\\evil.txt": b"backslashes are a name on POSIX",
    "t/" + "n" * 300 + ".txt": b"too long for a file system",
    "t/existing": b"a key where a local folder is",
    "t/fine.txt": b"fine",
}


def test_lookalikes_long_names_backslashes_and_a_key_over_a_folder(s3, bucket, tmp_path):
    s3.seed(bucket, LOOKALIKES)
    out = tmp_path / "out"
    (out / "existing").mkdir(parents=True)
    (out / "existing" / "mine.txt").write_text("keep me")
    with pytest.raises(errors.TransferError) as info:
        Path(f"s3://{bucket}/t").copy(out, progress=False)
    assert sorted(info.value.failures) == sorted(f"s3://{bucket}/{k}" for k in ("t/" + "n" * 300 + ".txt",
                                                                               "t/existing"))
    assert (out / "\u2024\u2024" / "x.txt").read_bytes() == b"one dot leaders"
    assert (out / "\uff0e\uff0e" / "y.txt").read_bytes() == b"fullwidth dots"
    assert (out / "..\\..\\evil.txt").read_bytes() == b"backslashes are a name on POSIX"
    assert (out / "existing" / "mine.txt").read_text() == "keep me"
    assert everything_below(tmp_path) == ["out", *sorted(f"out/{name}" for name in (
        "\u2024\u2024", "\u2024\u2024/x.txt", "\uff0e\uff0e", "\uff0e\uff0e/y.txt", "..\\..\\evil.txt",
        "existing", "existing/mine.txt", "fine.txt"))]


# -- overlaps: a folder into its parent, sync into itself ----------------------------------------------


NESTED = {"d/sub/y.txt": b"ORIGINAL-Y", "d/sub/sub/y.txt": b"NESTED", "d/other.txt": b"OTHER"}


def seed_local(root):
    for key, data in NESTED.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return {key: (root / key).read_bytes() for key in NESTED}


@pytest.fixture(params=["s3", "local"])
def nested(request, s3, bucket, tmp_path):
    """(root Path, truth reader) holding NESTED."""
    if request.param == "s3":
        s3.seed(bucket, NESTED)
        return Path(f"s3://{bucket}/"), lambda: {k: s3.body(bucket, k) for k in s3.keys(bucket)}
    seed_local(tmp_path)
    return Path(tmp_path), lambda: {p.relative_to(tmp_path).as_posix(): p.read_bytes()
                                    for p in tmp_path.rglob("*") if p.is_file()}


def test_moving_a_folder_onto_its_parent_is_refused_before_anything_moves(nested):
    root, truth = nested
    with pytest.raises(errors.OverlapError, match="inside"):
        (root / "d" / "sub").move(root / "d")
    with pytest.raises(errors.OverlapError):
        commands.mv([str(root / "d" / "sub")], str(root / "d"), recursive=True)
    assert truth() == NESTED


def test_syncing_a_folder_into_its_parent_or_its_child_is_refused(nested):
    root, truth = nested
    for source, target in ((root / "d" / "sub", root / "d"), (root / "d", root / "d" / "sub")):
        with pytest.raises(errors.OverlapError):
            sync(source, target, delete=True)
    assert truth() == NESTED


def test_delete_never_deletes_inside_the_source(s3, bucket):
    s3.seed(bucket, {"d/sub/y.txt": b"Y", "d/extra.txt": b"E"})
    report = sync(f"s3://{bucket}/d/sub", f"s3://{bucket}/d", delete=True)
    assert [item.path for item in report.deleted] == ["extra.txt"]
    assert [item.path for item in report.skipped if "inside the source" in item.reason] == ["sub/y.txt"]
    assert s3.keys(bucket) == ["d/sub/y.txt", "d/y.txt"] and s3.body(bucket, "d/sub/y.txt") == b"Y"


def test_the_browsers_synchronize_refuses_overlapping_panes(s3, bucket):
    s3.seed(bucket, NESTED)
    b = browse(f"s3://{bucket}/d/sub", f"s3://{bucket}/d")
    b.wait()
    user = User(b, ("Left → right", None, True))
    press(b, "synchronize")
    user.stop()
    assert "OverlapError" in b.message["text"] or "overlap" in b.message["text"]
    assert {k: s3.body(bucket, k) for k in s3.keys(bucket)} == NESTED


# -- writers commit only on success ------------------------------------------------------------------


class Exploding:
    def __str__(self):
        raise RuntimeError("exploded while writing")


@pytest.fixture
def old(s3, bucket):
    s3.seed(bucket, {"old.csv": b"old,csv\n", "old.parquet": b"PAR1 old parquet"})
    return bucket


def test_pandas_writers_that_raise_part_way_leave_the_old_objects(s3, old):
    rows = pd.DataFrame({"n": range(200_000), "s": ["x" * 8] * 200_000}, dtype=object)
    rows.loc[150_000, "s"] = Exploding()  # after ~1.5 MB of CSV has been written
    with pytest.raises(RuntimeError, match="exploded"):
        rows.to_csv(Path(f"s3://{old}/old.csv"), chunksize=10_000)
    with pytest.raises(RuntimeError, match="exploded"):
        rows.to_csv(f"s3://{old}/old.csv", chunksize=10_000)  # a plain string: fsspec's text layer
    mixed = pd.DataFrame({"bad": [1, "two", b"three"]})
    with pytest.raises((pa.ArrowTypeError, pa.ArrowInvalid)):
        mixed.to_parquet(Path(f"s3://{old}/old.parquet"))
    assert s3.body(old, "old.csv") == b"old,csv\n" and s3.body(old, "old.parquet") == b"PAR1 old parquet"


def batches(explode_after):
    for index in range(explode_after + 1):
        if index == explode_after:
            raise RuntimeError("the source of the rows failed")
        yield pa.record_batch({"n": pa.array(range(index * 50_000, (index + 1) * 50_000))})


@pytest.mark.parametrize("opener", ["path", "fsspec"])
def test_a_pyarrow_writer_closed_in_finally_after_row_groups_leaves_the_old_object(s3, old, opener):
    sink = Path(f"s3://{old}/old.parquet").open("wb") if opener == "path" else filesystem().open(
        f"{old}/old.parquet", "wb")
    with pytest.raises(RuntimeError, match="failed"):
        writer = pq.ParquetWriter(sink, pa.schema({"n": pa.int64()}))
        try:
            for batch in batches(explode_after=4):  # four row groups (~1.6 MB) streamed first
                writer.write_batch(batch)
        finally:  # as libraries do: close whatever happened
            writer.close()
            sink.close()
    assert s3.body(old, "old.parquet") == b"PAR1 old parquet"


def test_a_writer_opened_and_closed_inside_an_except_block_still_commits(s3, bucket):
    try:
        raise KeyError("handled")
    except KeyError:
        handle = Path(f"s3://{bucket}/fallback.txt").open("w")
        handle.write("written while handling")
        handle.close()
    assert s3.body(bucket, "fallback.txt") == b"written while handling"


# -- the persistent cache: private, and never trusted ---------------------------------------------------


def test_the_cache_file_and_its_folder_are_private_even_when_the_folder_existed(tmp_path, root):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    configure_s3_cache(persist=f"{folder}/")
    list(root.iterdir())  # writes a listing to the file
    assert os.stat(folder).st_mode & 0o777 == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert "s3cache.sqlite3" in files
    assert {p.name: os.stat(p).st_mode & 0o777 for p in folder.iterdir()} == dict.fromkeys(files, 0o600)


CRAFTED = [
    '{"t": "listing", "v": {"c": {"a.txt": {"not": "a list"}}, "m": null, "r": true}}',  # wrong shape
    '{"t": "json", "v": ' + "[" * 100_000 + "]" * 100_000 + "}",  # nested beyond any parser
    '{"t": "listing", "v": {"c": {"a.txt": [true, false, "huge", 0, null, null, null]}, "m": null, "r": true}}',
    '{"t": "listing", "v": {"c": {"../../../evil.txt": [true, false, 1, 0, null, null, null]}, "m": null, "r": true}}',
]


@pytest.mark.parametrize("crafted", CRAFTED, ids=["shape", "depth", "size", "name"])
def test_a_crafted_cache_row_is_ignored_with_one_warning(s3, bucket, tmp_path, crafted):
    s3.seed(bucket, {"a.txt": b"12345"})
    file = tmp_path / "cache.sqlite3"
    configure_s3_cache(persist=str(file))  # creates the file
    with sqlite3.connect(file) as db:  # another process (or someone) wrote this row
        db.execute("INSERT OR REPLACE INTO entries VALUES ('list_dir', ?, '', '[]', ?, 9e12)", (bucket, crafted))
    with warnings.catch_warnings(record=True) as caught, s3.counting() as counts:
        warnings.simplefilter("always")
        listed = {p.name: p.stat().st_size for p in Path(f"s3://{bucket}/").iterdir()}
    assert listed == {"a.txt": 5} and counts["ListObjectsV2"] == 1
    assert [str(w.message) for w in caught if w.category is RuntimeWarning].__len__() == 1
    assert "malformed" in str(caught[0].message)


# -- secrets --------------------------------------------------------------------------------------------


def test_a_password_in_the_endpoint_url_never_shows(s3, bucket, caplog):
    endpoint = s3.endpoint_url.replace("http://", "http://keeper:Pa55-in-the-url@")
    with caplog.at_level(logging.DEBUG):
        configure_s3(endpoint_url=endpoint, max_attempts=1)
        shown = []
        try:
            shown.append(repr(list(Path(f"s3://{bucket}/").iterdir())))
        except OSError as exc:
            shown.append(f"{exc} {exc!r}")
        try:
            Path("s3://no-such-bucket-here/x").read_bytes()
        except OSError as exc:
            shown.append(f"{exc} {exc!r}")
        shown.append(repr(get_s3_cache_stats()))
        shown.append(repr(configure_s3()))
    text = caplog.text + "\n".join(shown)
    assert "Pa55-in-the-url" not in text
    assert "requests_by_endpoint" in shown[-2] and "127.0.0.1" in shown[-2]


def test_debug_logs_carry_no_signature(s3, bucket, caplog):
    with caplog.at_level(logging.DEBUG):
        Path(f"s3://{bucket}/k").write_bytes(b"v")
    assert "Signature" in caplog.text  # botocore's signing lines were there to be cleaned
    assert not re.search(r"Signature[:=]\s*[0-9a-f]{64}", caplog.text)


# -- the browser tells the truth -------------------------------------------------------------------------


def test_a_cancelled_copy_says_how_many_files_arrived_and_both_panes_show_them(s3, bucket):
    s3.seed(bucket, {"src/a1.txt": b"1", "src/a2.txt": b"2", "src/b1.txt": b"3", "dst/.keep": b""})
    b = browse(f"s3://{bucket}/", f"s3://{bucket}/dst")
    b.wait()
    focus(b, "left", "src")
    gate = Gate()
    # b1 is held until the cancel has arrived, then refused: that request never lands
    with faults(s3, Fault(operation="CopyObject", path="/dst/src/b1", hold=gate, status=403, code="AccessDenied")):
        user = User(b, ("Copy", None, False))
        b._on_message(b, {"action": "copy", "pane": "left"}, [])
        assert gate.arrived(1)
        b._on_message(b, {"action": "cancel", "pane": "left"}, [])
        gate.release()
        b.wait()
        user.stop()
    arrived = [key.rsplit("/", 1)[1] for key in s3.keys(bucket, "dst/src/")]
    said = re.search(r"cancelled: (\d+) of 3 files had been copied(?:; (\d+) more w\w+ in flight)?", b.message["text"])
    assert said, b.message["text"]
    confirmed, in_flight = int(said.group(1)), int(said.group(2) or 0)
    assert confirmed <= len(arrived) <= confirmed + in_flight and "b1.txt" not in arrived
    assert confirmed == 2 and in_flight == 0  # a cancel lets what was sent finish: the count is exact
    b.navigate("right", Path(f"s3://{bucket}/dst/src"))
    b.wait()
    assert names(b.right) == arrived  # the panes show what is there


def test_destructive_dialogs_default_to_the_safe_choice(s3, bucket, tmp_path):
    (tmp_path / "same.txt").write_text("local")
    s3.seed(bucket, {"same.txt": b"remote"})
    b = browse(f"s3://{bucket}/", tmp_path)
    b.wait()
    focus(b, "left", "same.txt")
    user = User(b, ("Copy", None, False), ("Skip", None, False))
    press(b, "copy")
    focus(b, "right", "same.txt")
    user.answers.append(("Cancel", None, False))
    press(b, "delete", "right")
    user.stop()
    conflict, deleting = user.seen[1], user.seen[2]
    assert conflict["default"] == "Skip" and deleting["default"] == "Cancel"
    assert (tmp_path / "same.txt").read_text() == "local"


# -- the shell contract: every documented form, run literally next to crafted names ------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
CRAFTED_NAMES = ["a notes.txt", "$(touch PWNED1)", "x;touch PWNED2", "*", "new\nline.txt", "quote'd\".txt", "-n"]


def documented_shell_forms():
    """(kind, command) for every `!` line using TFM_ variables and every configure_browser program that
    the README and the notebooks show."""
    import ast
    import json

    texts = [(ROOT / "README.md").read_text()]
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        texts += ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]
                  if cell["cell_type"] == "code"]
    forms = []
    for text in texts:
        forms += [("bang", line[1:]) for line in re.findall(r"^!.*\$TFM_.*$", text, re.M)]
        for found in re.finditer(r"configure_browser\(programs=(\{.*?\})\)", text, re.S):
            forms += [("program", command) for command in ast.literal_eval(found.group(1)).values()]
    return forms


def test_the_documented_forms_are_found():
    kinds = [kind for kind, _ in documented_shell_forms()]
    assert kinds.count("bang") >= 4 and kinds.count("program") >= 4


@pytest.fixture
def crafted(tmp_path):
    folder = tmp_path / "reports --recursive $(touch PWNED0)"
    folder.mkdir()
    for name in CRAFTED_NAMES:
        (folder / name).write_text("one\ntwo\n")
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "aws").write_text("#!/bin/sh\nprintf '%s\\0' \"$@\" >> \"$STUB_LOG\"\n")
    (stub / "aws").chmod(0o755)
    b = browse(folder, folder)
    b.wait()
    focus(b, "left", CRAFTED_NAMES[0], selection=CRAFTED_NAMES)
    return folder, stub, b


@pytest.mark.parametrize("kind,command", documented_shell_forms())
def test_each_documented_form_is_safe_with_hostile_names(crafted, tmp_path, kind, command):
    import subprocess

    from tfm_jupyter.browser.environment import shell_text, variables
    from tfm_jupyter.browser.programs import run_command

    folder, stub, b = crafted
    env = {**os.environ, **variables(b), "PATH": f"{stub}:{os.environ['PATH']}", "STUB_LOG": str(tmp_path / "aws")}
    chosen = tuple(shell_text(folder / name, False) for name in CRAFTED_NAMES)
    if kind == "bang":
        run = subprocess.run(["bash", "-c", command], env=env, cwd=folder, capture_output=True, text=True, timeout=30)
        output, status = run.stdout, run.returncode
    else:
        status, output = run_command(command, env, str(folder), None, chosen)
        bash = subprocess.run(["bash", "-c", command, "tfm", *chosen], env=env, cwd=folder, capture_output=True,
                              text=True, timeout=30)
        assert bash.returncode == status
    assert status == 0, output
    assert not list(tmp_path.rglob("PWNED*")) and not os.path.exists("PWNED1")  # nothing ran
    if "aws" in command:
        assert (tmp_path / "aws").read_bytes().split(b"\0")[:-1] == [b"s3", b"ls", str(folder).encode()]
    # each name reached the program whole, exactly once (a split or globbed one would be missing or extra)
    if "wc -l" in command:
        assert f"{2 * len(CRAFTED_NAMES)} total" in output, output
    if "head" in command:
        assert output.count("==> ") == len(CRAFTED_NAMES), output
    if "selected:" in command:
        assert all(output.count(f"selected: {folder / name}\n") == 1 for name in CRAFTED_NAMES), output
