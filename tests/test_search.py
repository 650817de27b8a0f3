"""find() and grep(): counted requests, content rules, cancellation; the magics on top."""

import re
import threading

import pytest
from faults import Fault, Gate, faults

from conftest import only
from tfm_jupyter import Path, errors
from tfm_jupyter.search import MAX_CONTENT_BYTES, find, grep


@pytest.fixture
def corpus(s3, bucket):
    objects = {f"logs/day{d:02d}/part{p:03d}.log": f"day {d} part {p}\nstatus=ok\n".encode()
               for d in range(25) for p in range(100)}  # 2,500 keys
    objects["logs/day07/part042.log"] = b"day 7\nERROR disk full\nstatus=failed\n"
    objects["logs/day11/image.png"] = b"\x89PNG\r\n\x1a\n\x00\x00ERROR hidden in binary"
    objects["logs/huge.log"] = b"ERROR " + b"x" * MAX_CONTENT_BYTES
    objects["notes/readme.md"] = b"# Error handling\nsee logs\n"
    s3.seed(bucket, objects)
    return bucket


def test_name_search_is_one_flat_listing(s3, corpus):
    with s3.counting() as counts:
        found = list(find(f"s3://{corpus}/logs", name="part04*.log"))
    assert len(found) == 250 and all(p.name.startswith("part04") for p in found)
    assert only(counts, ListObjectsV2=4)  # ceil(2,503 / 1000), and the key range after the cut


def test_content_search_reads_only_candidates_skips_binary_and_huge(s3, corpus):
    with s3.counting() as counts:
        found = list(find(f"s3://{corpus}/logs", contains="ERROR"))
    assert found == [Path(f"s3://{corpus}/logs/day07/part042.log")]
    # every text file up to the cap was read once, the binary too (to see it is binary), the huge one never
    assert counts["GetObject"] == 2501 and counts["ListObjectsV2"] == 4 and counts["HeadObject"] == 0


def test_regex_case_limit_size_and_age_filters(s3, corpus):
    root = f"s3://{corpus}"
    assert [p.name for p in find(root, contains=r"status=fail\w+", regex=True)] == ["part042.log"]
    assert [p.name for p in find(root + "/notes", contains="error", ignore_case=True)] == ["readme.md"]
    assert list(find(root + "/notes", contains="error")) == []
    assert len(list(find(root + "/logs", name="*.log", limit=7))) == 7
    assert [p.name for p in find(root, larger="1M")] == ["huge.log"]
    assert list(find(root, newer="2999-01-01")) == []
    assert len(list(find(root, name="*.md", newer="1h"))) == 1


def test_find_and_grep_are_exported_by_the_package(s3, corpus):
    import tfm_jupyter

    assert tfm_jupyter.find is find and tfm_jupyter.grep is grep
    assert "find" in tfm_jupyter.__all__ and "grep" in dir(tfm_jupyter)
    assert [p.name for p in tfm_jupyter.find(f"s3://{corpus}/notes", name="*.md")] == ["readme.md"]


def test_grep_reports_file_line_and_text(corpus):
    matches = sorted(grep("ERROR|status=failed", f"s3://{corpus}/logs"), key=lambda m: m.line_number)
    assert [(m.path.name, m.line_number, m.line) for m in matches] == [
        ("part042.log", 2, "ERROR disk full"), ("part042.log", 3, "status=failed")]
    assert [m.line for m in grep("error", f"s3://{corpus}/notes", ignore_case=True, fixed=True)] == [
        "# Error handling"]


def test_local_folders_are_searched_the_same_way(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("needle here\n")
    (tmp_path / "a" / "y.txt").write_text("hay\n")
    assert list(find(tmp_path, contains="needle")) == [Path(tmp_path / "a" / "b" / "x.txt")]
    assert sorted(p.name for p in find(tmp_path, name="*.txt")) == ["x.txt", "y.txt"]


def test_cancel_event_stops_a_content_search(corpus):
    cancel = threading.Event()
    found = find(f"s3://{corpus}/logs", contains="status", cancel=cancel, workers=2)
    assert next(found)
    cancel.set()
    with pytest.raises(errors.Cancelled):
        list(found)


def test_keyboard_interrupt_stops_promptly(s3, corpus, interrupt_main):
    # The signal is sent once both workers are held at the server, so the search is known to be
    # mid-scan; promptly means no read is started after it (counted at the server, not timed).
    gate = Gate(on_arrival=lambda held: held == 2 and interrupt_main())
    with faults(s3, Fault(operation="GetObject", hold=gate)), s3.counting() as counts:
        with pytest.raises(KeyboardInterrupt):
            for _ in find(f"s3://{corpus}/logs", contains="never appears anywhere", workers=2):
                pass
        gate.release()
    assert counts["GetObject"] == 2  # of 2,501 candidates


def test_find_and_grep_magics(s3, corpus):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tfm_jupyter")
    try:
        listing = shell.run_line_magic("s3find", f"s3://{corpus}/logs --contains 'disk full'")
        assert [p.name for p in listing] == ["part042.log"]
        result = shell.run_line_magic("s3grep", f"-i 'error' s3://{corpus}/notes")
        assert repr(result) == f"s3://{corpus}/notes/readme.md:1:# Error handling"
        assert "<td" in result._repr_html_() and len(result.to_pandas()) == 1
        capped = shell.run_line_magic("s3grep", f"--limit 5 status s3://{corpus}/logs/day01")
        assert len(capped) == 5 and "more matches not shown" in repr(capped)
        s3.seed(corpus, {"x/<img src=x onerror=alert(1)>.txt": b"<script>alert(1)</script>\n"})
        html = shell.run_line_magic("s3grep", f"script s3://{corpus}/x")._repr_html_()
        assert "<script>" not in html and "<img" not in html and re.search("&lt;script&gt;", html)
    finally:
        shell.run_line_magic("unload_ext", "tfm_jupyter")


def test_a_single_file_can_be_searched_too(corpus, tmp_path):
    assert [m.line for m in grep("disk", f"s3://{corpus}/logs/day07/part042.log")] == ["ERROR disk full"]
    (tmp_path / "one.txt").write_text("alpha\nbeta\n")
    assert [m.line_number for m in grep("beta", tmp_path / "one.txt")] == [2]
