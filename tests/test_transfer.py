"""Copy and move in all four directions: fast, shown, cancellable, and never losing data."""

import hashlib
import os
import threading
import urllib.request

import pytest
from faults import Fault, faults

from conftest import only
from tfm_jupyter import Path, clear_s3_cache, configure_s3, errors

UNICODE_NAMES = ("naïve café.txt", "résumé #1.csv", "a+b=c.txt", "with space.txt", "📊 chart.bin")


def make_local_tree(root):
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty dir").mkdir()
    (root / "sub" / "empty").mkdir()
    for index, name in enumerate(UNICODE_NAMES):
        (root / name).write_bytes(os.urandom(100 + index))
    (root / "sub" / "x.txt").write_text("x")
    (root / "sub" / "deeper" / "y.bin").write_bytes(os.urandom(5000))
    return root


def tree_digest(root):
    """{relative path: sha256 or 'dir'} of a local tree, empty directories included."""
    result = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames:
            result[os.path.relpath(os.path.join(directory, name), root)] = "dir"
        for name in filenames:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                result[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return result


def test_local_to_s3_and_back_is_byte_identical_with_empty_dirs_and_unicode(tmp_path, s3, root, bucket):
    source = make_local_tree(tmp_path / "src")
    uploaded = Path(source).copy(root / "up", progress=False)
    assert uploaded == root / "up"
    assert "up/empty dir/" in s3.keys(bucket) and "up/sub/empty/" in s3.keys(bucket)
    assert "up/sub/" not in s3.keys(bucket)  # non-empty directories need no marker
    back = (root / "up").copy(tmp_path / "back", progress=False)
    assert back == Path(tmp_path / "back")
    assert tree_digest(tmp_path / "back") == tree_digest(source)


def test_64_mib_file_round_trips_with_multipart(tmp_path, s3, root, bucket):
    data = os.urandom(64 * 2**20)
    (tmp_path / "big.bin").write_bytes(data)
    with s3.counting() as up:
        Path(tmp_path / "big.bin").copy(root / "big.bin", progress=False)
    assert up["UploadPart"] >= 2 and up["CompleteMultipartUpload"] == 1 and up["PutObject"] == 0
    with s3.counting() as down:
        (root / "big.bin").copy(tmp_path / "again.bin", progress=False)
    assert down["GetObject"] >= 2 and down["HeadObject"] == 0  # parallel ranged GETs, size already known
    assert (tmp_path / "again.bin").read_bytes() == data
    assert s3.pending_uploads(bucket) == []


def test_s3_to_s3_copies_are_server_side_in_the_same_and_other_buckets(s3, root, bucket):
    s3.seed(bucket, {f"src/{i:03d}.dat": os.urandom(64) for i in range(25)} | {"src/m/": b""})
    other = s3.new_bucket()
    with s3.counting() as counts:
        (root / "src").copy(root / "dst", progress=False)
        (root / "src").copy(f"s3://{other}/elsewhere", progress=False)
    assert counts["GetObject"] == 0 and counts["UploadPart"] == 0
    assert counts["CopyObject"] == 52  # 25 objects + 1 marker, twice
    assert s3.keys(bucket, "dst/") == [k.replace("src/", "dst/") for k in s3.keys(bucket, "src/")]
    assert s3.keys(other) == [k.replace("src/", "elsewhere/") for k in s3.keys(bucket, "src/")]
    assert s3.body(other, "elsewhere/007.dat") == s3.body(bucket, "src/007.dat")


def test_a_single_file_copy_in_s3_costs_one_copy_object_when_the_folder_is_listed(s3, root, bucket):
    s3.seed(bucket, {"a.txt": b"a", "far/x": b""})
    list(root.iterdir())
    with s3.counting() as counts:
        (root / "a.txt").copy(root / "b.txt")
    assert only(counts, CopyObject=1)  # both checks answered by the cached listing
    with s3.counting() as cold:
        (root / "far" / "x").copy(root / "elsewhere" / "y")
    assert only(cold, CopyObject=1, ListObjectsV2=2)  # a probe of the source, one of the target


def test_a_tree_copy_costs_the_listing_boto3_would_make(s3, root, bucket):
    s3.seed(bucket, {f"src/{i:04d}": b"x" for i in range(1005)} | {"src.txt": b"sibling", "srcdir/a": b"a"})
    with s3.counting() as counts:
        (root / "src").copy(root / "dst", progress=False)
    # The source's probe is the first page of its listing; the second page continues after it.
    assert only(counts, ListObjectsV2=2, CopyObject=1005)
    assert s3.keys(bucket, "dst/") == [f"dst/{i:04d}" for i in range(1005)]
    assert not (root / "dst.txt").exists() and not (root / "dst" / "a").exists()


def test_a_tree_copy_lists_the_folder_when_siblings_fill_the_probe(s3, root, bucket):
    s3.seed(bucket, {f"d-{i:04d}": b"s" for i in range(1001)} | {"d/x": b"x", "d/sub/y": b"y"})
    with s3.counting() as counts:
        (root / "d").copy(root / "e", progress=False)
    assert only(counts, ListObjectsV2=2, CopyObject=2)  # the probe page, then the folder's own listing
    assert s3.keys(bucket, "e") == ["e/sub/y", "e/x"]


def test_a_tree_copied_onto_an_s3_file(s3, root, bucket):
    s3.seed(bucket, {"src/a": b"a", "taken": b"file"})
    with pytest.raises(NotADirectoryError), s3.counting() as counts:
        (root / "src").copy(root / "taken", overwrite=False, progress=False)
    assert only(counts, ListObjectsV2=2)  # source and target, each one listing
    assert s3.keys(bucket, "taken") == ["taken"]
    (root / "src").copy(root / "taken", progress=False)  # S3 holds both, as after write_bytes
    assert s3.keys(bucket, "taken") == ["taken", "taken/a"]
    assert (root / "taken").is_file() and (root / "taken").is_dir()
    clear_s3_cache()
    with s3.counting() as counts:
        (root / "src").copy(root / "fresh", overwrite=False, progress=False)
    assert only(counts, ListObjectsV2=2, CopyObject=1)  # the target's one listing answers every check


def test_local_to_local_copy_and_move(tmp_path):
    source = make_local_tree(tmp_path / "src")
    digest = tree_digest(source)
    Path(source).copy(tmp_path / "copy", progress=False)
    assert tree_digest(tmp_path / "copy") == digest
    moved = Path(tmp_path / "copy").move(tmp_path / "moved")
    assert not (tmp_path / "copy").exists() and tree_digest(moved) == digest


def test_copy_into_and_move_into(tmp_path, s3, root, bucket):
    (tmp_path / "report.csv").write_text("a,b\n")
    (root / "inbox").mkdir()
    assert Path(tmp_path / "report.csv").copy_into(root / "inbox") == root / "inbox" / "report.csv"
    assert (root / "inbox" / "report.csv").move_into(root) == root / "report.csv"
    assert s3.keys(bucket) == ["inbox/", "report.csv"]
    (tmp_path / "down").mkdir()
    assert (root / "report.csv").copy_into(tmp_path / "down") == Path(tmp_path / "down" / "report.csv")


def test_move_deletes_sources_only_after_everything_arrived(tmp_path, s3, root, bucket):
    s3.seed(bucket, {f"batch/{i}.csv": f"row {i}".encode() for i in range(6)})
    configure_s3(max_attempts=1)
    with faults(s3, Fault(operation="CopyObject", path=r"/archive/3\.csv$", status=500)), \
            pytest.raises(errors.TransferError) as info:
        (root / "batch").move(root / "archive", progress=False)
    assert list(info.value.failures) == [f"s3://{bucket}/batch/3.csv"]
    assert "Every source is still in place" in str(info.value)
    assert s3.keys(bucket, "batch/") == [f"batch/{i}.csv" for i in range(6)]
    assert [p.name for p in (root / "batch").iterdir()] == [f"{i}.csv" for i in range(6)]  # cache agrees


def test_local_directory_move_with_a_failed_upload_keeps_every_source(tmp_path, s3, root, bucket):
    source = make_local_tree(tmp_path / "src")
    digest = tree_digest(source)
    configure_s3(max_attempts=1)
    with faults(s3, Fault(operation="PutObject", path="x\\.txt$", status=503, code="SlowDown")), \
            pytest.raises(errors.TransferError) as info:
        Path(source).move(root / "up", progress=False)
    assert list(info.value.failures) == [str(source / "sub" / "x.txt")]
    assert tree_digest(source) == digest


def test_failed_download_leaves_no_partial_or_temporary_file(tmp_path, s3, root, bucket):
    s3.seed(bucket, {"f.bin": os.urandom(20000)})
    (tmp_path / "f.bin").write_bytes(b"previous content")
    configure_s3(max_attempts=1)
    with faults(s3, Fault(operation="GetObject", status=500)), pytest.raises(errors.TransferError):
        (root / "f.bin").copy(tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == b"previous content"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_overwrite_false_refuses_before_changing_anything(tmp_path, s3, root, bucket):
    s3.seed(bucket, {"t/a.txt": b"old a", "src/a.txt": b"new a", "src/b.txt": b"new b"})
    with s3.counting() as counts, pytest.raises(FileExistsError, match="nothing was copied"):
        (root / "src").copy(root / "t", overwrite=False)
    assert counts["CopyObject"] == 0
    assert s3.keys(bucket, "t/") == ["t/a.txt"] and s3.body(bucket, "t/a.txt") == b"old a"
    (tmp_path / "local.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        (root / "src" / "a.txt").copy(tmp_path / "local.txt", overwrite=False)
    assert (tmp_path / "local.txt").read_text() == "mine"


def test_copying_onto_itself_or_into_itself_is_refused(tmp_path, s3, root, bucket):
    s3.seed(bucket, {"d/f.txt": b"f"})
    with pytest.raises(errors.SameFileError):
        (root / "d" / "f.txt").copy(root / "d" / "f.txt")
    with pytest.raises(errors.SameFileError, match="into itself"):
        (root / "d").copy(root / "d" / "inner")
    (tmp_path / "ld").mkdir()
    with pytest.raises(errors.SameFileError):
        Path(tmp_path / "ld").copy(tmp_path / "ld" / "x")
    with pytest.raises(errors.SameFileError):
        Path(tmp_path / "ld").move(tmp_path / "ld")
    assert s3.keys(bucket) == ["d/f.txt"]


def test_copy_of_a_file_onto_a_directory_and_of_something_missing(tmp_path, root):
    (root / "dir").mkdir()
    (root / "f").write_text("f")
    with pytest.raises(IsADirectoryError):
        (root / "f").copy(root / "dir")
    with pytest.raises(FileNotFoundError):
        (root / "missing").copy(tmp_path / "x")


def test_listings_of_source_and_target_parents_are_fresh_after_copy_and_move(s3, root, bucket):
    s3.seed(bucket, {"from/a.txt": b"a", "from/b.txt": b"b", "to/old.txt": b"o"})
    for directory in (root, root / "from", root / "to"):
        list(directory.iterdir())
    (root / "from" / "a.txt").copy(root / "to" / "a.txt")
    (root / "from" / "b.txt").move(root / "to" / "b.txt")
    (root / "from").move(root / "gone")
    assert sorted(p.name for p in (root / "to").iterdir()) == ["a.txt", "b.txt", "old.txt"]
    assert sorted(p.name for p in root.iterdir()) == ["gone", "to"]
    assert not (root / "from").exists()
    assert sorted(p.name for p in (root / "gone").iterdir()) == ["a.txt"]


def test_directory_rename_within_s3(s3, root, bucket):
    s3.seed(bucket, {"old/x/1.txt": b"1", "old/2.txt": b"2", "old/": b""})
    (root / "old").rename(root / "new")
    assert s3.keys(bucket) == ["new/", "new/2.txt", "new/x/1.txt"]


def test_progress_callable_reaches_the_totals(tmp_path, root):
    for index in range(5):
        (tmp_path / f"{index}.bin").write_bytes(b"x" * 1000)
    calls = []
    Path(tmp_path).copy(root / "p", progress=lambda *args: calls.append(args))
    assert calls[-1] == (5000, 5000, 5, 5)
    assert all(0 <= done <= total for done, total, _, _ in calls)


def test_progress_none_shows_a_tqdm_bar_for_many_files_and_false_is_silent(tmp_path, root, capsys):
    for index in range(60):
        (tmp_path / f"{index}.txt").write_text("x")
    Path(tmp_path).copy(root / "bar")
    assert "60/60 files" in capsys.readouterr().err
    Path(tmp_path).copy(root / "quiet", progress=False)
    assert capsys.readouterr().err == ""


def _interrupt_after_first_progress(interrupt_main):
    fired = threading.Event()

    def progress(bytes_done, *_):
        if bytes_done and not fired.is_set():
            fired.set()
            interrupt_main()  # what the notebook's stop button sends the kernel

    return progress


def test_keyboard_interrupt_during_upload_leaves_no_partial_object_or_pending_upload(
        tmp_path, s3, root, bucket, interrupt_main):
    (tmp_path / "huge.bin").write_bytes(os.urandom(96 * 2**20))
    with pytest.raises(KeyboardInterrupt):
        Path(tmp_path / "huge.bin").copy(root / "huge.bin", progress=_interrupt_after_first_progress(interrupt_main))
    assert s3.pending_uploads(bucket) == []
    assert s3.keys(bucket) == []
    assert not (root / "huge.bin").exists()


def test_keyboard_interrupt_during_download_leaves_no_file(tmp_path, s3, root, bucket, interrupt_main):
    s3.seed(bucket, {"huge.bin": os.urandom(96 * 2**20)})
    with pytest.raises(KeyboardInterrupt):
        (root / "huge.bin").copy(tmp_path / "huge.bin", progress=_interrupt_after_first_progress(interrupt_main))
    assert os.listdir(tmp_path) == []


def test_keyboard_interrupt_during_a_move_keeps_every_source(tmp_path, s3, root, bucket, interrupt_main):
    (tmp_path / "src").mkdir()
    for index in range(3):
        (tmp_path / "src" / f"{index}.bin").write_bytes(os.urandom(12 * 2**20))
    digest = tree_digest(tmp_path / "src")
    with pytest.raises(KeyboardInterrupt):
        Path(tmp_path / "src").move(root / "dst", progress=_interrupt_after_first_progress(interrupt_main))
    assert tree_digest(tmp_path / "src") == digest
    assert s3.pending_uploads(bucket) == []


def test_presigned_get_and_put_urls_work_without_a_request(s3, root, bucket):
    (root / "share.txt").write_text("shared")
    with s3.counting() as counts:
        url = (root / "share.txt").presign(expires=600)
        put_url = (root / "upload.txt").presign(method="put")
    assert only(counts)
    assert "X-Amz-Signature" in url and "X-Amz-Expires=600" in url
    assert urllib.request.urlopen(url).read() == b"shared"
    request = urllib.request.Request(put_url, data=b"via url", method="PUT", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request).read()
    assert s3.body(bucket, "upload.txt") == b"via url"
    with pytest.raises(ValueError):
        (root / "x").presign(method="delete")


def test_versions_list_read_and_restore(s3, root, bucket):
    root._cached_api_call("put_bucket_versioning", VersioningConfiguration={"Status": "Enabled"})
    path = root / "doc.txt"
    path.write_text("version one")
    path.write_text("version two")
    versions = path.versions()
    assert [v.read_text() for v in versions] == ["version two", "version one"]
    assert versions[0].is_latest and not versions[1].is_latest
    versions[1].restore()
    assert path.read_text() == "version one"
    assert len(path.versions()) == 3


def test_info_and_stat_expose_s3_metadata(s3, root, bucket):
    (root / "table.csv").write_text("a,b\n")
    info = (root / "table.csv").info
    assert info.exists() and info.is_file() and not info.is_dir() and not info.is_symlink()
    assert (info.size, info.content_type, info.storage_class) == (4, "text/csv", "STANDARD")
    assert info.etag.strip('"') == hashlib.md5(b"a,b\n").hexdigest() and info.mtime > 1.6e9
    listed = next(iter(root.iterdir())).stat()
    assert (listed.st_size, listed.storage_class, listed.etag) == (4, "STANDARD", info.etag)
