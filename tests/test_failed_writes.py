"""A failed write never changes what the cache believes exists.

Each test primes the cache (listings, stats), makes one kind of write fail at a real fault proxy,
then checks that every answer the cache gives equals the answer of a fresh listing.
"""

import os

import pytest
from fault_proxy import FaultProxy, Rule
from widget_driver import User, focus, names, press

from tfm_jupyter import Path, clear_s3_cache, commands, configure_s3, errors, transfer
from tfm_jupyter.browser import browse

REFUSED = dict(action="status", status=403, code="AccessDenied")  # not retried: fails at once
BROKEN = dict(action="status", status=500, code="InternalError")  # retried, then given up


@pytest.fixture
def proxy(s3):
    with FaultProxy(s3.endpoint_url) as proxy:
        configure_s3(endpoint_url=proxy.url, max_attempts=3, connect_timeout=2, read_timeout=10)
        yield proxy


def view(root, paths):
    """What the library says exists: the named paths first (their cached answers), then a walk."""
    states = {str(p): (p.exists(), p.is_dir(), p.is_file()) for p in map(Path, paths)}
    tree = sorted((str(d), sorted(dirs), sorted(files)) for d, dirs, files in root.walk())
    return states, tree


def assert_cache_is_true(root, *paths):
    cached = view(root, paths)
    clear_s3_cache()
    assert cached == view(root, paths)


@pytest.fixture
def primed(s3, bucket, root):
    """A bucket with a few objects whose listings and stats are all cached."""
    s3.seed(bucket, {"old/a.txt": b"a", "old/b.txt": b"b", "keep.txt": b"k"})
    view(root, [root / "new", root / "new/big.bin", root / "old/a.txt", root / "keep.txt"])
    return root


def test_a_failed_multipart_upload_does_not_make_its_folder_exist(proxy, tmp_path, primed, bucket, s3):
    (tmp_path / "big.bin").write_bytes(os.urandom(20 * 2**20))
    proxy.add(Rule(operation="UploadPart", nth=2, **BROKEN), Rule(operation="UploadPart", **BROKEN))
    with pytest.raises(errors.TransferError):
        Path(tmp_path / "big.bin").copy(primed / "new/big.bin")
    assert not (primed / "new").is_dir() and not (primed / "new").exists()
    assert_cache_is_true(primed, primed / "new", primed / "new/big.bin")
    assert s3.keys(bucket, "new") == [] and s3.pending_uploads(bucket) == []


def test_a_failed_big_write_bytes_leaves_the_old_object_and_a_true_cache(proxy, primed, bucket, s3):
    proxy.add(Rule(operation="UploadPart", **BROKEN))
    big = bytes(65 * 2**20)  # above the single-PUT limit: a managed multipart upload
    with pytest.raises(OSError):
        (primed / "keep.txt").write_bytes(big)
    with pytest.raises(OSError):
        (primed / "new/huge.bin").write_bytes(big)
    assert s3.body(bucket, "keep.txt") == b"k" and (primed / "keep.txt").stat().st_size == 1
    assert not (primed / "new").exists() and s3.pending_uploads(bucket) == []
    assert_cache_is_true(primed, primed / "keep.txt", primed / "new", primed / "new/huge.bin")


def test_a_failed_put_and_a_failed_writer(proxy, primed, bucket, s3):
    proxy.add(Rule(operation="PutObject", **REFUSED))
    with pytest.raises(PermissionError):
        (primed / "new/small.txt").write_text("x")
    with pytest.raises(PermissionError), (primed / "old/a.txt").open("w") as out:
        out.write("replaced")
    assert s3.body(bucket, "old/a.txt") == b"a"
    assert_cache_is_true(primed, primed / "new", primed / "new/small.txt", primed / "old/a.txt")


def test_a_failed_server_side_copy_and_move(proxy, primed, bucket, s3):
    proxy.add(Rule(operation="CopyObject", **REFUSED))
    with pytest.raises(errors.TransferError):
        transfer.copy(primed / "old", primed / "new")
    with pytest.raises(errors.TransferError):
        transfer.move(primed / "old", primed / "new")
    assert s3.keys(bucket) == ["keep.txt", "old/a.txt", "old/b.txt"]
    assert_cache_is_true(primed, primed / "new", primed / "new/a.txt", primed / "old", primed / "old/a.txt")


def test_a_failed_download_leaves_no_file_and_the_cache_as_it_was(proxy, tmp_path, primed):
    proxy.add(Rule(operation="GetObject", **REFUSED))
    with pytest.raises(errors.TransferError):
        transfer.copy(primed / "old", tmp_path / "got")
    assert not (tmp_path / "got" / "a.txt").exists() and not list((tmp_path / "got").glob("*.part"))
    assert_cache_is_true(primed, primed / "old/a.txt")


def test_failed_deletes_single_and_batched(proxy, primed, bucket, s3):
    proxy.add(Rule(operation="DeleteObject", **REFUSED), Rule(operation="DeleteObjects", **REFUSED))
    with pytest.raises(PermissionError):
        (primed / "keep.txt").unlink()
    with pytest.raises(OSError):
        commands.rm([primed / "old"], recursive=True, yes=True)
    assert s3.keys(bucket) == ["keep.txt", "old/a.txt", "old/b.txt"]
    assert_cache_is_true(primed, primed / "keep.txt", primed / "old", primed / "old/a.txt")


def test_a_failed_mkdir(proxy, primed, bucket, s3):
    proxy.add(Rule(operation="PutObject", **REFUSED))
    with pytest.raises(PermissionError):
        (primed / "new").mkdir()
    assert not (primed / "new").exists()
    assert_cache_is_true(primed, primed / "new")


def test_a_failed_raw_api_write(proxy, primed):
    proxy.add(Rule(operation="PutObject", **REFUSED))
    with pytest.raises(PermissionError):
        (primed / "new/raw.txt")._cached_api_call("put_object", Body=b"x")
    assert_cache_is_true(primed, primed / "new", primed / "new/raw.txt")


def test_a_failed_browser_copy(proxy, tmp_path, primed, bucket, s3):
    (tmp_path / "local.txt").write_text("from disk")
    b = browse(tmp_path, primed)
    b.wait()
    proxy.add(Rule(operation="PutObject", **REFUSED))
    focus(b, "left", "local.txt")
    user = User(b, ("Copy", None, False))
    press(b, "copy")
    user.stop()
    assert b.message["level"] == "error" and "local.txt" in b.message["text"]
    assert "local.txt" not in names(b.right)
    assert_cache_is_true(primed, primed / "local.txt")
