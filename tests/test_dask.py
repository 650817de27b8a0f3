"""Bulk work on a real ``dask.distributed.LocalCluster(processes=True, n_workers=2)`` against the test
server: copy, move, sync (and a re-sync that copies nothing), find by content and grep, a worker
killed in the middle of a copy, and workers whose environment has no AWS variables at all (the
configuration reaches them through our worker plugin, never through a task's arguments)."""

from __future__ import annotations

import os
import pickle
import signal
import threading
from pathlib import Path as FsPath

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest
from faults import Fault, Gate, faults

from conftest import TEST_KEY_ID, TEST_SECRET
from tfm_jupyter import Path, configure_s3, engines, errors, find, grep, sync


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes started with no AWS variable in their environment."""
    hidden = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("AWS_")}
    try:
        cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=2,
                                           dashboard_address=None, silence_logs=40)
        client = distributed.Client(cluster)
    finally:
        os.environ.update(hidden)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def engine(cluster, s3):
    configure_s3(endpoint_url=s3.endpoint_url, aws_access_key_id=TEST_KEY_ID, aws_secret_access_key=TEST_SECRET)
    cluster.wait_for_workers(2, timeout=60)  # a worker killed by an earlier test is back
    return cluster


def seed_tree(s3, bucket, count=60, prefix="src/"):
    objects = {f"{prefix}d{i % 4}/f{i:03d}.txt": f"line one\nfile {i}\n{'needle' if i % 10 == 3 else 'hay'}\n".encode()
               for i in range(count)}
    s3.seed(bucket, objects)
    return objects


def test_the_workers_have_no_aws_variables(engine):
    seen = engine.run(lambda: sorted(name for name in os.environ if name.startswith("AWS_")))
    assert len(seen) == 2 and all(names == [] for names in seen.values())


def test_a_copy_runs_on_the_workers(s3, bucket, engine):
    objects = seed_tree(s3, bucket)
    with s3.counting() as counts:
        Path(f"s3://{bucket}/src").copy(Path(f"s3://{bucket}/dst"), engine=engine, progress=False)
    assert counts["CopyObject"] == len(objects)
    assert {k.replace("src/", "dst/", 1): v for k, v in objects.items()} == s3.objects(bucket, "dst/")
    assert sorted(p.name for p in Path(f"s3://{bucket}/dst/d1").iterdir()) == sorted(
        k.rsplit("/", 1)[1] for k in objects if k.startswith("src/d1/"))  # the driver's cache saw the copy


def test_progress_comes_from_the_batches_as_they_finish(s3, bucket, engine, monkeypatch):
    monkeypatch.setattr(engines, "BATCH_FILES", 10)
    objects = seed_tree(s3, bucket, count=60)
    seen: list[tuple[int, int, int, int]] = []
    Path(f"s3://{bucket}/src").copy(Path(f"s3://{bucket}/dst"), engine=engine,
                                    progress=lambda *state: seen.append(state))
    total = sum(len(body) for body in objects.values())
    assert seen[-1] == (total, total, 60, 60)
    assert len({done for done, *_ in seen}) == 6  # the bytes move once per finished batch of 10
    assert [files for _, _, files, _ in seen] == sorted(files for _, _, files, _ in seen)


def test_throttled_copies_on_the_workers_are_sent_again_and_every_file_arrives(s3, bucket, engine):
    objects = seed_tree(s3, bucket, count=40)
    slow_down = Fault(operation="CopyObject", times=12, status=503, code="SlowDown")
    with faults(s3, slow_down), s3.counting() as counts:
        Path(f"s3://{bucket}/src").copy(Path(f"s3://{bucket}/dst"), engine=engine, progress=False)
    assert counts["CopyObject"] == len(objects) + 12  # each throttled request was sent again, once
    assert s3.objects(bucket, "dst/") == {k.replace("src/", "dst/", 1): v for k, v in objects.items()}


def test_a_copy_to_a_local_folder_and_back(s3, bucket, engine, tmp_path):
    objects = seed_tree(s3, bucket, count=20)
    Path(f"s3://{bucket}/src").copy(Path(tmp_path / "here"), engine=engine, progress=False)
    assert (tmp_path / "here" / "d3" / "f003.txt").read_bytes() == objects["src/d3/f003.txt"]
    Path(tmp_path / "here").copy(Path(f"s3://{bucket}/back"), engine=engine, progress=False)
    assert s3.objects(bucket, "back/") == {k.replace("src/", "back/", 1): v for k, v in objects.items()}


def test_a_download_on_the_cluster_never_escapes_the_target_folder(s3, bucket, engine, tmp_path):
    hostile = {"evil/../../escaped.txt": b"x", "evil/a/../../../up.txt": b"y", "evil/empty//component": b"z",
               "evil/$(touch pwned) and `id`\tx.txt": b"literal", "evil/ok.txt": b"fine"}
    s3.seed(bucket, hostile)
    target = tmp_path / "inside" / "target"
    with pytest.raises(errors.TransferError) as raised:
        Path(f"s3://{bucket}/evil").copy(Path(target), engine=engine, progress=False)
    assert sorted(raised.value.failures) == sorted(f"s3://{bucket}/{key}" for key in list(hostile)[:3])
    assert all("leave the target folder" in str(error) for error in raised.value.failures.values())
    assert (target / "$(touch pwned) and `id`\tx.txt").read_bytes() == b"literal"  # a name, never a command
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert everything == ["inside", "inside/target", "inside/target/$(touch pwned) and `id`\tx.txt",
                          "inside/target/ok.txt"]  # nothing outside the target, nothing run
    assert not (FsPath.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()


def test_sync_then_a_resync_that_copies_nothing(s3, bucket, engine):
    objects = seed_tree(s3, bucket)
    report = sync(f"s3://{bucket}/src", f"s3://{bucket}/mirror", engine=engine)
    assert len(report.copied) == len(objects) and not report.failed
    with s3.counting() as counts:
        again = sync(f"s3://{bucket}/src", f"s3://{bucket}/mirror", engine=engine)
    assert not again.copied and len(again.skipped) == len(objects)
    assert set(counts) == {"ListObjectsV2"}  # the two listings, made here; nothing for the workers to do


def test_find_by_content_and_grep_read_on_the_workers(s3, bucket, engine):
    objects = seed_tree(s3, bucket)
    expected = sorted(f"s3://{bucket}/{k}" for k, v in objects.items() if b"needle" in v)
    with s3.counting() as counts:
        found = sorted(str(p) for p in find(f"s3://{bucket}/src", contains="needle", engine=engine, progress=False))
    assert found == expected and counts["GetObject"] == len(objects)
    lines = list(grep("needle|file 13$", f"s3://{bucket}/src", engine=engine, progress=False))
    assert sorted((str(m.path), m.line_number) for m in lines) == sorted(
        [(path, 3) for path in expected] + [(f"s3://{bucket}/src/d1/f013.txt", 2)])


def test_a_move_deletes_sources_only_after_every_target_arrived(s3, bucket, engine):
    objects = seed_tree(s3, bucket, count=20)
    refused = Fault(operation="CopyObject", path=r"/f007\.txt$", status=403, code="AccessDenied")
    with faults(s3, refused), pytest.raises(errors.TransferError) as raised:
        Path(f"s3://{bucket}/src").move(Path(f"s3://{bucket}/moved"), engine=engine, progress=False)
    assert "f007.txt" in str(raised.value) and isinstance(next(iter(raised.value.failures.values())), PermissionError)
    assert s3.objects(bucket, "src/") == objects  # every source is still there
    Path(f"s3://{bucket}/src").move(Path(f"s3://{bucket}/moved"), engine=engine, progress=False)
    assert s3.objects(bucket, "src/") == {} and len(s3.objects(bucket, "moved/")) == len(objects)


def test_a_worker_killed_mid_copy_has_its_batch_redone(s3, bucket, engine, monkeypatch):
    monkeypatch.setattr(engines, "BATCH_FILES", 10)
    objects = seed_tree(s3, bucket, count=60)
    pids = engine.run(os.getpid)
    gate, outcome = Gate(), {}

    def copy():
        try:
            outcome["target"] = Path(f"s3://{bucket}/src").copy(Path(f"s3://{bucket}/dst"), engine=engine,
                                                                progress=False)
        except BaseException as exc:  # reported to the test below
            outcome["error"] = exc

    with s3.counting() as counts, faults(s3, Fault(operation="CopyObject", nth=1, hold=gate)):
        worker = threading.Thread(target=copy)
        worker.start()
        assert gate.arrived(1, timeout=60)
        holder = _the_only_busy_worker(engine)  # the other worker finishes every batch it can take
        graph = engine.run_on_scheduler(lambda dask_scheduler: [pickle.dumps(ts.run_spec)
                                                                for ts in dask_scheduler.tasks.values()])
        assert graph and not any(TEST_SECRET.encode() in spec or TEST_KEY_ID.encode() in spec for spec in graph)
        os.kill(pids[holder], signal.SIGKILL)
        gate.release()
        worker.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert s3.objects(bucket, "dst/") == {k.replace("src/", "dst/", 1): v for k, v in objects.items()}
    assert counts["CopyObject"] > len(objects)  # the killed worker's batch ran again


def test_a_cancel_stops_the_running_batches_and_leaves_only_whole_files(s3, bucket, engine, monkeypatch):
    monkeypatch.setattr(engines, "BATCH_FILES", 20)
    configure_s3(small_file_concurrency=2)  # reaches the workers: 2 copies in flight per batch
    objects = seed_tree(s3, bucket, count=40)
    gate, cancel, outcome = Gate(), threading.Event(), {}

    def copy():
        try:
            Path(f"s3://{bucket}/src").copy(Path(f"s3://{bucket}/dst"), engine=engine, progress=False, cancel=cancel)
        except BaseException as exc:  # reported to the test below
            outcome["error"] = exc

    seen_before = _stops_seen_on(engine)
    with faults(s3, Fault(operation="CopyObject", hold=gate)):
        worker = threading.Thread(target=copy)
        worker.start()
        assert gate.arrived(4, timeout=60)  # both batches running, each with its 2 copies held
        cancel.set()
        worker.join(60)  # returns while the held copies are still held: the futures were cancelled
        assert not worker.is_alive() and isinstance(outcome.get("error"), errors.Cancelled)
        _wait_for(lambda: _stops_seen_on(engine) >= seen_before + 2, "both batches saw the stop")
        gate.release()
    _no_task_left(engine)
    arrived = s3.objects(bucket, "dst/")
    assert len(arrived) <= 4  # what the two running batches had in flight; the rest of each was never sent
    assert all(objects[key.replace("dst/", "src/", 1)] == body for key, body in arrived.items())  # whole files


def _the_only_busy_worker(client, attempts=600):
    """The address of the one worker still processing, once the other has run out of work."""
    done = threading.Event()
    for _ in range(attempts):
        busy = [address for address, keys in client.processing().items() if keys]
        if len(busy) == 1 and not _queued(client):
            return busy[0]
        done.wait(0.1)  # the scheduler's state is polled: it has no event for "one worker left busy"
    raise AssertionError(f"never only one busy worker: {client.processing()}")


def _no_task_left(client):
    """Wait until the workers run nothing more (the stopped batches have returned)."""
    executing = lambda dask_worker: len(dask_worker.state.executing)  # noqa: E731 (pickled by value)
    _wait_for(lambda: not any(client.processing().values()) and not any(client.run(executing).values()),
              "the workers never went idle")


def _wait_for(condition, what, attempts=600):
    """Poll the cluster's state until ``condition()`` (Dask has no event for these states)."""
    pause = threading.Event()
    for _ in range(attempts):
        if condition():
            return
        pause.wait(0.1)
    raise AssertionError(what)


def _stops_seen_on(client):
    return sum(client.run(lambda: engines.stops_seen).values())  # a lambda: pickled by value


def _queued(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.queued) + len(dask_scheduler.unrunnable))


def test_dask_dataframe_reads_parquet_through_our_filesystem(s3, bucket, engine):
    frame = pd.DataFrame({"n": range(100), "word": [f"w{i % 7}" for i in range(100)]})
    for part in range(3):
        frame.assign(part=part).to_parquet(Path(f"s3://{bucket}/table/part-{part}.parquet"))
    engines.prepare(engine)  # our configuration for the workers' own Dask tasks
    read = dd.read_parquet(Path(f"s3://{bucket}/table/"))  # s3a://…: fsspec, so tfm_jupyter, not pyarrow's S3
    total = engine.compute(read["n"].sum()).result()
    assert total == 3 * sum(range(100))
