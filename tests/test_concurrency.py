"""Concurrency that fits the work, counted at the server: many small files keep far more than 10
requests in flight; big ones stay at 10; throttling (503 SlowDown) is retried, and nothing is lost."""

import os

import pytest
from faults import Fault, Gate, faults

from tfm_jupyter import Path, configure_s3, transfer

SMALL = 100


@pytest.fixture
def small_tree(tmp_path):
    for i in range(SMALL):
        (tmp_path / "src" / f"d{i % 4}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / f"d{i % 4}" / f"f{i:03d}.txt").write_bytes(os.urandom(512))
    return tmp_path / "src"


def held_at_once(s3, operation, run, expect):
    """Hold every ``operation`` request at the server; True once ``expect`` are held together."""
    gate = Gate()
    with faults(s3, Fault(operation=operation, hold=gate)):
        import threading

        worker = threading.Thread(target=run)
        worker.start()
        reached = gate.arrived(expect, timeout=30)
        gate.release()
        worker.join(120)
    return reached


def test_many_small_uploads_keep_more_than_10_requests_in_flight(s3, bucket, small_tree):
    target = Path(f"s3://{bucket}/up")
    assert held_at_once(s3, "PutObject", lambda: transfer.copy(small_tree, target, progress=False), 20)
    assert len(s3.keys(bucket, "up/")) == SMALL


def test_many_small_downloads_and_copies_too(s3, bucket, tmp_path):
    s3.seed(bucket, {f"src/d{i % 4}/f{i:03d}.txt": b"x" * 300 for i in range(SMALL)})
    source = Path(f"s3://{bucket}/src")
    assert held_at_once(s3, "GetObject", lambda: transfer.copy(source, tmp_path / "down", progress=False), 20)
    assert held_at_once(s3, "CopyObject", lambda: transfer.copy(source, Path(f"s3://{bucket}/copy"),
                                                                   progress=False), 20)
    assert len(list((tmp_path / "down").rglob("*.txt"))) == SMALL and len(s3.keys(bucket, "copy/")) == SMALL


def test_the_small_file_concurrency_is_a_setting(s3, bucket, small_tree):
    configure_s3(small_file_concurrency=4)
    gate = Gate()
    target = Path(f"s3://{bucket}/up")
    with faults(s3, Fault(operation="PutObject", hold=gate)):
        import threading

        worker = threading.Thread(target=lambda: transfer.copy(small_tree, target, progress=False))
        worker.start()
        assert gate.arrived(4, timeout=30)
        assert not gate.arrived(5, timeout=1)  # a bounded wait for something that must not happen
        gate.release()
        worker.join(120)
    with pytest.raises(ValueError):
        configure_s3(small_file_concurrency=0)


def test_throttled_requests_are_retried_and_every_file_arrives(s3, bucket, small_tree):
    with faults(s3, Fault(operation="PutObject", times=20, status=503, code="SlowDown")), s3.counting() as counts:
        transfer.copy(small_tree, Path(f"s3://{bucket}/up"), progress=False)
    assert counts["PutObject"] == SMALL + 20  # each throttled request was sent again, once
    assert sorted(k.rsplit("/", 1)[1] for k in s3.keys(bucket, "up/")) == sorted(
        p.name for p in small_tree.rglob("*.txt"))
