"""Concurrency that fits the work, counted at the server: many small files keep far more than 10
requests in flight; big ones stay at 10; throttling (503 SlowDown) is retried with fewer requests
in flight, which grow back as requests succeed, and nothing is lost."""

import os

import pytest
from faults import Fault, Gate, faults, in_thread

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


def test_throttling_halves_the_requests_in_flight_then_they_grow_back(s3, bucket, small_tree):
    # The first 32 PUTs are held together, then all answered 503 SlowDown; every PUT after that is
    # held too, so none completes and the window cannot grow while we count what arrives.
    throttled, after = Gate(), Gate()
    rules = (Fault(operation="PutObject", times=32, hold=throttled, status=503, code="SlowDown"),
             Fault(operation="PutObject", hold=after))
    with faults(s3, *rules), s3.counting() as counts:
        join = in_thread(lambda: transfer.copy(small_tree, Path(f"s3://{bucket}/up"), progress=False))
        assert throttled.arrived(32, timeout=30)
        throttled.release()
        assert after.arrived(16, timeout=30)  # half of the 32 that were in flight
        assert not after.arrived(17, timeout=1)  # a bounded wait for something that must not happen
        after.release()
        assert join() is None
    assert counts["PutObject"] == SMALL + 32  # each throttled request was sent again, once
    assert [s3.body(bucket, f"up/{p.relative_to(small_tree)}") for p in sorted(small_tree.rglob("*.txt"))] == [
        p.read_bytes() for p in sorted(small_tree.rglob("*.txt"))]
    # 100 successes so far; about one slot comes back per round of successes (384 take 16 to 32)
    for i in range(3):
        transfer.copy(small_tree, Path(f"s3://{bucket}/more{i}"), progress=False)
    assert held_at_once(s3, "PutObject", lambda: transfer.copy(small_tree, Path(f"s3://{bucket}/again"),
                                                                  progress=False), 32)


def test_the_window_cuts_once_per_round_and_grows_by_about_one_per_round():
    from tfm_jupyter.s3.throttle import ConcurrencyWindow

    window = ConcurrencyWindow(32)
    rounds = [window.acquire() for _ in range(8)]
    window.release(rounds.pop(), throttled=True)
    assert int(window.size) == 4 and window.cuts == 1
    for taken_in in rounds[:4]:  # sent before the cut: they describe the old window
        window.release(taken_in, throttled=True)
    assert int(window.size) == 4 and window.in_flight == 3
    window.release(rounds[4], throttled=False)
    assert window.size == 4.25
    again = window.acquire()  # 3 in flight < 4: a slot
    window.release(again, throttled=True)  # this round's throttle cuts what is in flight in half
    assert int(window.size) == 1 and window.cuts == 2
    for taken_in in rounds[5:]:
        window.release(taken_in, throttled=True)
    assert int(window.size) == 1 and window.in_flight == 0
    for _ in range(100):
        window.release(window.acquire(), throttled=False)
    assert 13 < window.size < 15  # ~sqrt(2 * 100): additive, not back at once
