"""sync(): aws s3 sync's semantics in every direction, counted at the real S3 endpoint."""

import os
import time

import pytest
from faults import Fault, Gate, faults
from IPython.core.error import UsageError

from conftest import only
from tfm_jupyter import Path, SyncReport, errors, sync
from tfm_jupyter.checksum import candidate_part_sizes, etag_matches

LONG_AGO = time.time() - 10 * 86400
REFUSED = dict(status=403, code="AccessDenied")


def local_tree(root, files, mtime=LONG_AGO):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (mtime, mtime))
    return Path(root)


def contents(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in Path(root).rglob("*") if p.is_file()}


FILES = {"a.txt": b"alpha", "docs/b.csv": b"x,y\n1,2\n", "docs/deep/c.bin": b"\x00" * 300}


def test_local_to_s3_copies_new_then_only_lists(tmp_path, s3, bucket):
    src, dst = local_tree(tmp_path / "src", FILES), Path(f"s3://{bucket}/out")
    with s3.counting() as counts:
        report = sync(src, dst)
    assert only(counts, ListObjectsV2=1, PutObject=3)
    assert sorted(i.path for i in report.copied) == sorted(FILES) and {i.reason for i in report.copied} == {"new"}
    assert contents(dst) == FILES and report.bytes == sum(map(len, FILES.values())) and report.requests == 4
    with s3.counting() as counts:
        again = sync(src, dst)
    assert only(counts, ListObjectsV2=1) and again.copied == [] and len(again.skipped) == 3


def test_a_changed_size_or_a_newer_source_is_copied_nothing_else(tmp_path, s3, bucket):
    src, dst = local_tree(tmp_path / "src", FILES), Path(f"s3://{bucket}/out")
    sync(src, dst)
    (tmp_path / "src/a.txt").write_bytes(b"alpha, longer")  # size differs
    (tmp_path / "src/docs/b.csv").write_bytes(b"x,y\n3,4\n")  # same size, newer (mtime now)
    os.utime(tmp_path / "src/docs/b.csv", (time.time() + 3600,) * 2)  # surely newer than the upload
    with s3.counting() as counts:
        report = sync(src, dst)
    assert only(counts, ListObjectsV2=1, PutObject=2)
    assert {i.path: i.reason for i in report.copied} == {"a.txt": "size differs", "docs/b.csv": "newer at the source"}
    assert [i.path for i in report.skipped] == ["docs/deep/c.bin"]


def test_size_only_ignores_times(tmp_path, s3, bucket):
    src, dst = local_tree(tmp_path / "src", FILES), Path(f"s3://{bucket}/out")
    sync(src, dst)
    (tmp_path / "src/docs/b.csv").write_bytes(b"x,y\n3,4\n")
    os.utime(tmp_path / "src/docs/b.csv", (time.time() + 3600,) * 2)
    with s3.counting() as counts:
        assert sync(src, dst, size_only=True).copied == []
    assert only(counts, ListObjectsV2=1)


def test_s3_to_local_keeps_s3_times_so_a_second_sync_only_lists(tmp_path, s3, bucket):
    s3.seed(bucket, {f"in/{k}": v for k, v in FILES.items()})
    with s3.counting() as counts:
        sync(f"s3://{bucket}/in", tmp_path / "got")
    assert only(counts, ListObjectsV2=1, GetObject=3) and contents(tmp_path / "got") == FILES
    modified = Path(f"s3://{bucket}/in/a.txt").stat().st_mtime
    assert os.stat(tmp_path / "got/a.txt").st_mtime == modified
    with s3.counting() as counts:
        assert sync(f"s3://{bucket}/in", tmp_path / "got").copied == []
    assert only(counts, ListObjectsV2=1)


def test_exact_timestamps_copies_a_same_size_local_file_of_another_time(tmp_path, s3, bucket):
    s3.seed(bucket, {f"in/{k}": v for k, v in FILES.items()})
    sync(f"s3://{bucket}/in", tmp_path / "got")
    local = tmp_path / "got/a.txt"
    local.write_bytes(b"ALPHA")
    os.utime(local, (time.time() + 3600,) * 2)  # the local copy is newer: the default keeps it
    assert sync(f"s3://{bucket}/in", tmp_path / "got").copied == []
    report = sync(f"s3://{bucket}/in", tmp_path / "got", exact_timestamps=True)
    assert [(i.path, i.reason) for i in report.copied] == [("a.txt", "timestamps differ")]
    assert local.read_bytes() == b"alpha"
    old = time.time() - 86400 * 30  # and an S3 object newer than the local copy is copied by default
    os.utime(local, (old, old))
    assert [i.path for i in sync(f"s3://{bucket}/in", tmp_path / "got").copied] == ["a.txt"]


def test_s3_to_s3_copies_server_side(s3, bucket):
    s3.seed(bucket, {f"in/{k}": v for k, v in FILES.items()})
    with s3.counting() as counts:
        sync(f"s3://{bucket}/in", f"s3://{bucket}/mirror")
    assert only(counts, ListObjectsV2=2, CopyObject=3)
    assert contents(f"s3://{bucket}/mirror") == FILES


def test_local_to_local(tmp_path):
    src = local_tree(tmp_path / "src", FILES)
    sync(src, tmp_path / "dst")
    assert contents(tmp_path / "dst") == FILES
    assert sync(src, tmp_path / "dst").copied == []


def test_resyncing_10000_unchanged_files_costs_only_the_listings(tmp_path, s3, bucket):
    names = {f"part-{i // 1000:02d}/f{i:05d}.txt": b"%d" % i for i in range(10_000)}
    src = local_tree(tmp_path / "src", names)
    s3.seed(bucket, {f"big/{k}": v for k, v in names.items()})  # uploaded after the local mtimes
    with s3.counting() as counts:
        report = sync(src, f"s3://{bucket}/big")
    # the first page, then two key ranges side by side: 11 listings where a flat chain takes 10
    assert only(counts, ListObjectsV2=11) and len(report.skipped) == 10_000 and report.copied == []
    s3.seed(bucket, {f"mirror/{k}": v for k, v in names.items()})
    with s3.counting() as counts:
        assert sync(f"s3://{bucket}/big", f"s3://{bucket}/mirror").copied == []
    assert only(counts, ListObjectsV2=22)  # both trees: 11 each


def test_delete_removes_only_what_the_source_lacks_in_batches(tmp_path, s3, bucket):
    s3.seed(bucket, {"out/old1.txt": b"1", "out/old2.txt": b"2", "out/keep.log": b"k", "out/a.txt": b"alpha"})
    src = local_tree(tmp_path / "src", FILES)
    with s3.counting() as counts:
        report = sync(src, f"s3://{bucket}/out", delete=True, exclude=["*.log"])
    assert only(counts, ListObjectsV2=1, PutObject=2, DeleteObjects=1)  # a.txt is the same
    assert sorted(i.path for i in report.deleted) == ["old1.txt", "old2.txt"]
    assert sorted(s3.keys(bucket, "out/")) == ["out/a.txt", "out/docs/b.csv", "out/docs/deep/c.bin", "out/keep.log"]


def test_exclude_then_include_like_the_aws_cli(tmp_path, s3, bucket):
    src = local_tree(tmp_path / "src", FILES)
    report = sync(src, f"s3://{bucket}/csv", exclude=["*"], include=["*.csv"])
    assert [i.path for i in report.copied] == ["docs/b.csv"]
    ordered = sync(src, f"s3://{bucket}/txt", filters=[("include", "*.txt"), ("exclude", "*")])
    assert ordered.copied == []  # the last matching rule decides


def test_dryrun_sends_no_write_request(tmp_path, s3, bucket):
    s3.seed(bucket, {"out/extra.txt": b"x"})
    src = local_tree(tmp_path / "src", FILES)
    with s3.counting() as counts:
        report = sync(src, f"s3://{bucket}/out", delete=True, dryrun=True)
    assert only(counts, ListObjectsV2=1)
    assert report.dryrun and len(report.copied) == 3 and [i.path for i in report.deleted] == ["extra.txt"]
    assert s3.keys(bucket) == ["out/extra.txt"]
    assert "would copy 3" in repr(report) and "would delete 1" in repr(report)


def test_a_sync_whose_copies_fail_deletes_nothing(tmp_path, s3, bucket):
    s3.seed(bucket, {"out/extra.txt": b"x"})
    src = local_tree(tmp_path / "src", FILES)
    with faults(s3, Fault(operation="PutObject", path="b\\.csv", **REFUSED)), \
            pytest.raises(errors.SyncError) as caught:
        sync(src, f"s3://{bucket}/out", delete=True)
    report = caught.value.report
    assert [i.path for i in report.failed] == ["docs/b.csv"] and report.deleted == []
    assert sorted(i.path for i in report.copied) == ["a.txt", "docs/deep/c.bin"]
    assert isinstance(caught.value, OSError) and "nothing was deleted" in str(caught.value)
    assert "out/extra.txt" in s3.keys(bucket) and "out/docs/b.csv" not in s3.keys(bucket)


def test_a_cancelled_sync_leaves_no_partial_file(tmp_path, s3, bucket):
    import threading

    s3.seed(bucket, {"in/big.bin": os.urandom(3 * 2**20), "in/small.txt": b"s"})
    gate, cancel = Gate(), threading.Event()
    worker_error = []

    def run():
        try:
            sync(f"s3://{bucket}/in", tmp_path / "got", cancel=cancel)
        except errors.Cancelled as exc:
            worker_error.append(exc)

    with faults(s3, Fault(operation="GetObject", hold=gate)):
        thread = threading.Thread(target=run)
        thread.start()
        assert gate.arrived(1)
        cancel.set()
        gate.release()
        thread.join(60)
    assert worker_error and not thread.is_alive()
    left = [p.name for p in (tmp_path / "got").rglob("*") if p.is_file()] if (tmp_path / "got").exists() else []
    assert not any(name.endswith(".part") for name in left)
    assert all((tmp_path / "got" / name).read_bytes() == Path(f"s3://{bucket}/in/{name}").read_bytes() for name in left)


def test_checksum_compares_content_with_single_and_multipart_etags(tmp_path, s3, bucket):
    big = os.urandom(20 * 2**20)
    src = local_tree(tmp_path / "src", {"same.txt": b"12345", "changed.txt": b"abcde", "big.bin": big},
                     mtime=time.time() + 3600)  # every local file looks newer than S3's
    (Path(f"s3://{bucket}/out/same.txt")).write_bytes(b"12345")
    (Path(f"s3://{bucket}/out/changed.txt")).write_bytes(b"ABCDE")
    Path(tmp_path / "src/big.bin").copy(Path(f"s3://{bucket}/out/big.bin"))  # multipart: 3 parts of 8 MiB
    assert Path(f"s3://{bucket}/out/big.bin").stat().etag.strip('"').endswith("-3")
    assert {i.path for i in sync(src, f"s3://{bucket}/out", dryrun=True).copied} == {"same.txt", "changed.txt",
                                                                                     "big.bin"}
    with s3.counting() as counts:
        report = sync(src, f"s3://{bucket}/out", checksum=True)
    assert [(i.path, i.reason) for i in report.copied] == [("changed.txt", "content differs")]
    assert only(counts, ListObjectsV2=1, PutObject=1) and report.checksum_fallback == []


def test_etag_inference_unit():
    import hashlib
    import io

    data = b"x" * (17 * 2**20)
    parts = [data[i:i + 8 * 2**20] for i in range(0, len(data), 8 * 2**20)]
    etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"
    assert etag_matches(f'"{etag}"', len(data), lambda: io.BytesIO(data)) is True
    assert etag_matches(f'"{etag}"', len(data), lambda: io.BytesIO(b"y" * len(data))) is None  # cannot tell
    assert etag_matches('"' + hashlib.md5(b"ab").hexdigest() + '"', 2, lambda: io.BytesIO(b"ab")) is True
    assert etag_matches('"' + hashlib.md5(b"ab").hexdigest() + '"', 2, lambda: io.BytesIO(b"ac")) is False
    assert etag_matches("not-an-md5", 2, lambda: io.BytesIO(b"ab")) is None
    assert candidate_part_sizes(17 * 2**20, 3)[0] == 8 * 2**20


def test_missing_source_and_file_source_are_refused(tmp_path, bucket):
    with pytest.raises(FileNotFoundError):
        sync(tmp_path / "nothing", f"s3://{bucket}/x")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        sync(tmp_path / "f.txt", f"s3://{bucket}/x")


def test_report_forms(tmp_path, bucket):
    report = sync(local_tree(tmp_path / "src", {"<b>x</b>.txt": b"1"}), f"s3://{bucket}/r")
    assert isinstance(report, SyncReport)
    assert "&lt;b&gt;" in report._repr_html_() and "<b>x" not in report._repr_html_()
    frame = report.to_pandas()
    assert list(frame.columns) == ["action", "path", "size", "reason", "error"] and frame.iloc[0]["action"] == "copy"


def test_the_s3sync_magic_asks_before_deleting(ip, tmp_path, s3, bucket, capsys):
    s3.seed(bucket, {"out/extra.txt": b"x"})
    src = local_tree(tmp_path / "src", FILES)
    with pytest.raises(UsageError, match="--yes"):
        ip.run_line_magic("s3sync", f"{src} s3://{bucket}/out --delete")
    assert "extra.txt" in capsys.readouterr().out and s3.keys(bucket) == ["out/extra.txt"]
    report = ip.run_line_magic("s3sync", f"{src} s3://{bucket}/out --delete --yes --exclude '*.bin'")
    assert sorted(s3.keys(bucket)) == ["out/a.txt", "out/docs/b.csv"] and len(report.deleted) == 1
    dry = ip.run_line_magic("s3sync", f"s3://{bucket}/out {tmp_path / 'back'} --dryrun --size-only --checksum")
    assert len(dry.copied) == 2 and not (tmp_path / "back").exists()
    from IPython.core.completer import provisionalcompleter

    line = f"%s3sync {src} s3://{bucket}/o"
    with provisionalcompleter():
        completed = [line[: c.start] + c.text for c in ip.Completer.completions(line, len(line))]
    assert f"%s3sync {src} s3://{bucket}/out/" in completed


def test_a_missing_source_is_what_a_sync_reports_even_when_the_target_bucket_is_missing_too(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to sync from") as raised:
        sync(tmp_path / "no-such-results", "s3://zz-no-such-team/run-42/results")
    assert raised.value.filename == str(tmp_path / "no-such-results")
