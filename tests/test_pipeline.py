"""A big S3 tree is copied while it is still being listed, and a cancel stops the listing too.

The listing's second page (the first request with ``start-after``) is held at the server with a
Gate, so "copying began before the listing ended" and "cancelled mid-listing" are states the test
holds, not races it hopes to win.  Every request is counted at the server.
"""

import threading

import pytest
from faults import Fault, Gate, faults, in_thread

from tfm_jupyter import Path, errors, transfer

KEYS = 2500  # three listing pages; 250 folders, so the flat chain lists them (no fan-out)


def key(i):
    return f"src/d{i // 10:03d}/f{i:04d}.txt"


@pytest.fixture
def big_tree(s3, bucket):
    objects = {key(i): f"body {i}".encode() for i in range(KEYS)}
    objects["src/zz-empty/"] = b""  # a folder marker, on the last page
    s3.seed(bucket, objects)
    return objects


def listing_threads_end():
    for thread in threading.enumerate():
        if thread.name.startswith("tfm-listing"):
            thread.join(60)
            assert not thread.is_alive()


def test_copying_starts_while_the_listing_is_held_and_progress_shows_both(s3, bucket, big_tree):
    listing, copying = Gate(), Gate()
    totals = []
    progress = lambda done, total, files, files_total: totals.append(files_total)  # noqa: E731
    rules = (Fault(operation="ListObjectsV2", query="start-after", hold=listing),
             Fault(operation="CopyObject", hold=copying))
    with faults(s3, *rules), s3.counting() as counts:
        join = in_thread(lambda: transfer.copy(f"s3://{bucket}/src", f"s3://{bucket}/dst", progress=progress))
        assert listing.arrived(1, timeout=30)
        assert copying.arrived(1, timeout=30)  # a copy reached the server while page 2 is still held
        assert listing.count == 1 and max(totals) == 1000  # the first page's files, so far
        listing.release()
        copying.release()
        assert join() is None
    # the flat chain's 3 pages, and the key range after the cut (at most one more)
    assert counts["ListObjectsV2"] == 4 and counts["CopyObject"] == KEYS + 1 and not counts["HeadObject"]
    assert totals[-1] == KEYS + 1  # every file, the marker included, once the listing ended
    assert s3.keys(bucket, "dst/") == sorted(k.replace("src/", "dst/", 1) for k in big_tree)
    assert s3.body(bucket, "dst/d123/f1234.txt") == b"body 1234"


def test_a_cancel_mid_listing_stops_it_and_leaves_only_whole_files(s3, bucket, big_tree, tmp_path):
    listing, cancel = Gate(), threading.Event()
    target = tmp_path / "got"
    with faults(s3, Fault(operation="ListObjectsV2", query="start-after", hold=listing)), s3.counting() as counts:
        join = in_thread(lambda: transfer.copy(f"s3://{bucket}/src", target, progress=False, cancel=cancel))
        assert listing.arrived(1, timeout=30)
        cancel.set()
        outcome = join()
        assert listing.count == 1  # the cancel took effect while the listing request was still held
        listing.release()
        listing_threads_end()
    assert isinstance(outcome, errors.Cancelled)
    assert counts["ListObjectsV2"] == 2  # the held page; the third was never asked for
    assert counts["GetObject"] <= 1000  # nothing from the page that arrived after the cancel
    files = [p for p in target.rglob("*") if p.is_file()]
    for path in files:  # whatever arrived is whole, under its own name
        assert path.read_bytes() == big_tree["src/" + path.relative_to(target).as_posix()]
    assert len(files) <= 1000


def test_a_streamed_download_matches_the_tree(s3, bucket, big_tree, tmp_path):
    with s3.counting() as counts:
        transfer.copy(f"s3://{bucket}/src", tmp_path / "got", progress=False)
    assert counts["ListObjectsV2"] == 4 and counts["GetObject"] == KEYS and not counts["HeadObject"]  # 3, + the cut
    assert (tmp_path / "got" / "zz-empty").is_dir()  # the marker became an empty folder
    files = sorted(p.relative_to(tmp_path / "got").as_posix() for p in (tmp_path / "got").rglob("*") if p.is_file())
    assert files == sorted(k[len("src/"):] for k in big_tree if not k.endswith("/"))
    assert (tmp_path / "got" / "d007" / "f0077.txt").read_bytes() == b"body 77"


def test_a_streamed_move_that_fails_late_keeps_every_source(s3, bucket, big_tree):
    refused = Fault(operation="CopyObject", path="/dst/d240/f2405", status=403, code="AccessDenied")
    with faults(s3, refused), pytest.raises(errors.TransferError) as raised:
        transfer.move(f"s3://{bucket}/src", f"s3://{bucket}/dst", progress=False)
    assert list(raised.value.failures) == [f"s3://{bucket}/{key(2405)}"]
    assert s3.keys(bucket, "src/") == sorted(big_tree)  # nothing deleted: a file did not arrive
    assert len(s3.keys(bucket, "dst/")) == KEYS  # the rest arrived (the marker too)
    assert not Path(f"s3://{bucket}/dst/d240/f2405.txt").exists()  # the cache agrees with the server


def test_the_browser_copies_a_big_folder_as_it_is_listed(s3, bucket, big_tree, tmp_path):
    from widget_driver import User, focus, press

    from tfm_jupyter.browser import browse

    b = browse(f"s3://{bucket}/", tmp_path)
    b.wait()
    jobs = []
    b.observe(lambda change: jobs.append(change["new"]), "job")
    focus(b, "left", "src")
    user = User(b, ("Copy", None, False))
    with s3.counting() as counts:
        press(b, "copy")
    user.stop()
    assert counts["ListObjectsV2"] == 4 and counts["GetObject"] == KEYS  # the pane's listing told "a folder"
    shown = [(job["files_done"], job["files_total"]) for job in jobs if job and "files_total" in job]
    assert shown[0] == (0, 0) and shown[-1] == (KEYS, KEYS)  # the totals grew with the listing
    assert len([p for p in (tmp_path / "src").rglob("*") if p.is_file()]) == KEYS


@pytest.mark.parametrize("work", ["sync", "find", "grep"])
def test_a_cancel_stops_the_listing_of_a_sync_or_search_at_its_next_page(s3, bucket, big_tree, tmp_path, work):
    from tfm_jupyter import find, grep, sync

    source = f"s3://{bucket}/src"
    run = {"sync": lambda cancel: sync(source, tmp_path / "mirror", cancel=cancel),
           "find": lambda cancel: list(find(source, contains="body 7", cancel=cancel, progress=False)),
           "grep": lambda cancel: list(grep("body", source, cancel=cancel, progress=False))}[work]
    listing, cancel = Gate(), threading.Event()
    with faults(s3, Fault(operation="ListObjectsV2", query="start-after", hold=listing)), s3.counting() as counts:
        join = in_thread(lambda: run(cancel))
        assert listing.arrived(1, timeout=30)
        cancel.set()
        listing.release()
        outcome = join()
    assert isinstance(outcome, errors.Cancelled)
    assert counts["ListObjectsV2"] == 2 and not counts["GetObject"]  # the third page was never asked for
    assert not (tmp_path / "mirror").exists()
