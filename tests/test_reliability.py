"""Faults from a real proxy in front of the S3 server: retries, timeouts, truncation, and transfers
that keep every byte under each fault kind."""

import hashlib
import os
import time

import pytest
from fault_proxy import FaultProxy, Rule

from tfm_jupyter import Path, S3Path, clear_s3_cache, configure_s3, errors
from tfm_jupyter.s3 import client

FAULTS = {
    "500": dict(action="status", status=500, code="InternalError"),
    "503-slowdown": dict(action="status", status=503, code="SlowDown"),
    "reset": dict(action="reset"),
    "truncate": dict(action="truncate", keep=7),
}


@pytest.fixture
def proxy(s3):
    with FaultProxy(s3.endpoint_url) as proxy:
        configure_s3(endpoint_url=proxy.url, max_attempts=4, connect_timeout=2, read_timeout=5)
        yield proxy


def pending_uploads(bucket):
    """In-progress multipart uploads, asked through the S3 API (ListMultipartUploads)."""
    return client.client_for(bucket).call("list_multipart_uploads", Bucket=bucket).get("Uploads", [])


@pytest.mark.parametrize("fault", ["500", "503-slowdown", "reset"])
@pytest.mark.parametrize("operation", ["PutObject", "GetObject", "ListObjectsV2"])
def test_transient_faults_are_retried_and_the_operation_succeeds(proxy, s3, root, bucket, fault, operation):
    s3.seed(bucket, {"present.txt": b"content"})
    proxy.add(Rule(operation=operation, times=1, **FAULTS[fault]))
    {
        "PutObject": lambda: (root / "new.txt").write_bytes(b"written"),
        "GetObject": lambda: (root / "present.txt").read_bytes(),
        "ListObjectsV2": lambda: list(root.iterdir()),
    }[operation]()
    assert proxy.requests[operation] == 2  # the failure and its retry
    if operation == "PutObject":
        assert s3.body(bucket, "new.txt") == b"written"


def test_persistent_failures_end_in_an_oserror_naming_operation_and_key(proxy, s3, root, bucket):
    s3.seed(bucket, {"stuck.csv": b"x"})
    proxy.add(Rule("status", operation="GetObject", status=503, code="SlowDown"))
    started = time.monotonic()
    with pytest.raises(OSError) as info:
        (root / "stuck.csv").read_bytes()
    assert isinstance(info.value, errors.ServiceError)
    assert "GetObject" in str(info.value) and f"s3://{bucket}/stuck.csv" in str(info.value)
    assert "SlowDown" in str(info.value) and "4 attempts" in str(info.value)
    assert proxy.requests["GetObject"] == 4 and time.monotonic() - started < 30


def test_access_denied_is_not_retried(proxy, s3, root, bucket):
    s3.seed(bucket, {"private.txt": b"x"})
    proxy.add(Rule("status", operation="GetObject", status=403, code="AccessDenied"))
    with pytest.raises(PermissionError):
        (root / "private.txt").read_bytes()
    assert proxy.requests["GetObject"] == 1


def test_adaptive_retry_mode_is_configurable(proxy, s3, root, bucket):
    configure_s3(retry_mode="adaptive", max_attempts=3)
    proxy.add(Rule("status", operation="ListObjectsV2", status=503, code="SlowDown", times=2))
    assert list(root.iterdir()) == []
    assert proxy.requests["ListObjectsV2"] == 3


def test_a_hanging_endpoint_fails_within_the_read_timeout(proxy, s3, root, bucket):
    s3.seed(bucket, {"slow.txt": b"x"})
    configure_s3(read_timeout=1, max_attempts=2)
    proxy.add(Rule("delay", operation="GetObject", seconds=10))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        (root / "slow.txt").read_bytes()
    assert time.monotonic() - started < 6
    assert "read_timeout" in str(info.value)


def test_truncated_bodies_are_read_again_never_returned(proxy, s3, root, bucket):
    data = os.urandom(5000)
    s3.seed(bucket, {"t.bin": data, "always.bin": data})
    proxy.add(Rule("truncate", operation="GetObject", path="/t.bin", times=1, keep=100))
    assert (root / "t.bin").read_bytes() == data
    assert proxy.requests["GetObject"] == 2
    proxy.add(Rule("truncate", operation="GetObject", path="/always.bin", keep=100))
    with pytest.raises(errors.ServiceError, match="cut short"):
        (root / "always.bin").read_bytes()
    proxy.clear()
    assert (root / "always.bin").read_bytes() == data  # nothing short was cached


def test_a_stream_cut_mid_read_resumes_from_where_it_stopped(proxy, s3, root, bucket):
    data = os.urandom(300_000)
    s3.seed(bucket, {"s.bin": data})
    proxy.add(Rule("truncate", operation="GetObject", times=1, keep=50_000))
    with (root / "s.bin").open("rb") as handle:
        assert handle.read() == data
    assert proxy.requests["GetObject"] == 2  # the cut one and one ranged GET from byte 50,000 on


def test_truncated_downloads_never_become_the_final_file(proxy, s3, root, bucket, tmp_path):
    data = os.urandom(20_000)
    s3.seed(bucket, {"d.bin": data})
    (tmp_path / "d.bin").write_bytes(b"previous")
    proxy.add(Rule("truncate", operation="GetObject", keep=1000))
    with pytest.raises(errors.TransferError):
        (root / "d.bin").copy(tmp_path / "d.bin", progress=False)
    assert sorted(os.listdir(tmp_path)) == ["d.bin"] and (tmp_path / "d.bin").read_bytes() == b"previous"
    proxy.clear()
    proxy.add(Rule("truncate", operation="GetObject", keep=1000, times=1))
    (root / "d.bin").copy(tmp_path / "d.bin", progress=False)  # s3transfer retries a cut-short body
    assert (tmp_path / "d.bin").read_bytes() == data


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def _local_tree(path):
    return {str(p.relative_to(path)): _digest(p.read_bytes()) for p in sorted(path.rglob("*")) if p.is_file()}


def _s3_tree(s3, bucket, prefix):
    keys = [key for key in s3.keys(bucket, prefix) if not key.endswith("/")]
    return {key[len(prefix):]: _digest(s3.body(bucket, key)) for key in keys}


def _assert_cache_tells_the_truth(s3, bucket):
    cached = sorted(p.key for p in Path(f"s3://{bucket}/").rglob("*") if p.is_file())
    clear_s3_cache()
    assert cached == sorted(k for k in s3.keys(bucket) if not k.endswith("/"))


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", ["upload", "download", "s3-to-s3", "move-up", "move-down", "big-upload"])
def test_transfers_under_faults_keep_every_byte(proxy, s3, root, bucket, tmp_path, fault, kind):
    configure_s3(max_attempts=2)
    files = {f"f{i}.bin": os.urandom(3000 + i) for i in range(6)}
    local = tmp_path / "local"
    local.mkdir()
    for name, data in files.items():
        (local / name).write_bytes(data)
    s3.seed(bucket, {f"src/{name}": data for name, data in files.items()})
    if kind == "big-upload":
        (local / "big.bin").write_bytes(os.urandom(20 * 2**20))
        files["big.bin"] = (local / "big.bin").read_bytes()
    expected = {name: _digest(data) for name, data in files.items()}
    operation = {"upload": "PutObject", "download": "GetObject", "s3-to-s3": "CopyObject", "move-up": "PutObject",
                 "move-down": "GetObject", "big-upload": "UploadPart"}[kind]
    rule = Rule(operation=operation, path=r"f3\.bin|big\.bin", **FAULTS[fault])
    proxy.add(rule)
    source, target = {
        "upload": (Path(local), root / "dst"), "big-upload": (Path(local), root / "dst"),
        "download": (root / "src", Path(tmp_path / "down")), "s3-to-s3": (root / "src", root / "dst"),
        "move-up": (Path(local), root / "dst"), "move-down": (root / "src", Path(tmp_path / "down")),
    }[kind]
    run = source.move if kind.startswith("move") else source.copy
    try:
        run(target, progress=False)
        failed = set()
    except errors.TransferError as exc:
        failed = {Path(k).name for k in exc.failures}
    assert rule.fired >= 1
    faulted = {"big.bin"} if kind == "big-upload" else {"f3.bin"}
    if fault != "truncate" or operation == "GetObject":
        assert failed == faulted  # a persistent fault fails exactly that file; the others arrive
    else:
        assert failed <= faulted  # a cut-short reply to a write: the write may have landed
    # every source byte still exists somewhere: in the source, or complete at the target
    sources = _s3_tree(s3, bucket, "src/") if isinstance(source, S3Path) else _local_tree(local)
    if isinstance(target, S3Path):
        targets = _s3_tree(s3, bucket, "dst/")
    else:
        targets = _local_tree(tmp_path / "down") if (tmp_path / "down").exists() else {}
    for name, digest in expected.items():
        assert sources.get(name) == digest or targets.get(name) == digest, name
    for name, digest in targets.items():
        assert expected[name] == digest, f"partial or wrong target {name}"
    if kind.startswith("move") and failed:
        assert set(sources) == set(expected)  # a failed move deletes no source at all
    if (tmp_path / "down").exists():
        assert all(not n.startswith(".") and "." in n for n in os.listdir(tmp_path / "down"))  # no temp files
    assert pending_uploads(bucket) == []
    proxy.clear()
    _assert_cache_tells_the_truth(s3, bucket)
