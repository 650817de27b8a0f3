"""The data plane: small files' GETs, PUTs and copies go through obstore, and every guarantee holds.

Who sent a request is judged at the server, by its User-Agent (obstore's ``object_store/…``,
botocore's ``Boto3/…``); requests are counted there too.
"""

import os

import pytest
from faults import Fault, Gate, faults, in_thread

from conftest import only
from tfm_jupyter import Path, configure_s3, errors, get_s3_cache_stats, transfer


@pytest.fixture
def agents(s3):
    """(operation, user agent) of every request the server sees."""
    seen = []

    def wrap(app):
        def recorded(environ, start_response):
            seen.append((environ.get("tfm.operation"), environ.get("HTTP_USER_AGENT", "")))
            return app(environ, start_response)

        return recorded

    s3.server.middleware.append(wrap)
    yield seen
    s3.server.middleware.remove(wrap)


def sent_by(agents, operation):
    return {"obstore" if agent.startswith("object_store") else "boto3" for op, agent in agents if op == operation}


def test_small_files_go_through_the_plane_and_big_ones_through_s3transfer(s3, bucket, tmp_path, agents):
    (tmp_path / "up").mkdir()
    for n in range(5):
        (tmp_path / "up" / f"f{n}.bin").write_bytes(os.urandom(4096))
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "large.bin").write_bytes(os.urandom(9 * 2**20))
    with s3.counting() as counts:
        Path(tmp_path / "up").copy(f"s3://{bucket}/up", progress=False)
    assert only(counts, PutObject=5) and sent_by(agents, "PutObject") == {"obstore"}
    agents.clear()
    with s3.counting() as counts:
        Path(f"s3://{bucket}/up").copy(tmp_path / "down", progress=False)
        Path(f"s3://{bucket}/up").copy(f"s3://{bucket}/copied", progress=False)
    assert counts["GetObject"] == 5 and counts["CopyObject"] == 5
    assert sent_by(agents, "GetObject") == {"obstore"} and sent_by(agents, "CopyObject") == {"obstore"}
    assert sorted(p.read_bytes() for p in (tmp_path / "down").iterdir()) == sorted(
        p.read_bytes() for p in (tmp_path / "up").iterdir())
    agents.clear()
    Path(tmp_path / "big").copy(f"s3://{bucket}/big", progress=False)
    assert sent_by(agents, "UploadPart") == {"boto3"} and not sent_by(agents, "PutObject")


def test_data_plane_boto3_turns_it_off(s3, bucket, tmp_path, agents):
    configure_s3(data_plane="boto3")
    (tmp_path / "f.bin").write_bytes(b"x")
    Path(tmp_path / "f.bin").copy(f"s3://{bucket}/f.bin", progress=False)
    assert sent_by(agents, "PutObject") == {"boto3"}
    with pytest.raises(ValueError, match="data_plane"):
        configure_s3(data_plane="rust")


def test_the_plane_keeps_many_requests_in_flight(s3, bucket, tmp_path):
    s3.seed(bucket, {f"many/f{n:03d}": b"x" * 100 for n in range(60)})
    gate = Gate()
    with faults(s3, Fault(operation="GetObject", hold=gate)):
        join = in_thread(lambda: Path(f"s3://{bucket}/many").copy(tmp_path / "many", progress=False))
        assert gate.arrived(21)  # more than 20 at once, all waiting at the server together
        gate.release()
        assert join() is None  # no error
    assert len(list((tmp_path / "many").iterdir())) == 60


def test_every_attempt_is_counted_and_retried_like_botocores(s3, bucket, tmp_path):
    s3.seed(bucket, {f"r/f{n}": f"body {n}".encode() for n in range(4)})
    before = get_s3_cache_stats()["requests_by_operation"].get("GetObject", 0)
    with faults(s3, Fault(operation="GetObject", status=500, times=3)), s3.counting() as counts:
        Path(f"s3://{bucket}/r").copy(tmp_path / "r", progress=False)
    assert counts["GetObject"] == 4 + 3  # three failed first, then every file once
    assert get_s3_cache_stats()["requests_by_operation"]["GetObject"] - before == 7  # the meter agrees
    assert sorted(p.read_text() for p in (tmp_path / "r").iterdir()) == [f"body {n}" for n in range(4)]


def test_a_refusal_is_our_error_and_nothing_partial_is_left(s3, bucket, tmp_path):
    s3.seed(bucket, {"d/ok": b"fine", "d/no": b"refused"})
    refused = Fault(operation="GetObject", path="/d/no", status=403, code="AccessDenied")
    with faults(s3, refused), pytest.raises(errors.TransferError) as info:
        Path(f"s3://{bucket}/d").copy(tmp_path / "d", progress=False)
    assert isinstance(info.value.failures[f"s3://{bucket}/d/no"], PermissionError)
    assert sorted(os.listdir(tmp_path / "d")) == ["ok"]  # no temporary file, no partial one


def test_a_key_obstore_would_rewrite_stays_with_boto3(s3, bucket, tmp_path, agents):
    s3.seed(bucket, {"odd/a//b": b"empty part", "odd/./c": b"dot", "odd/plain": b"plain"})
    transfer.copy(f"s3://{bucket}/odd", f"s3://{bucket}/copy", progress=False)
    assert sorted(s3.keys(bucket, "copy/")) == ["copy/./c", "copy/a//b", "copy/plain"]
    assert sent_by(agents, "CopyObject") == {"obstore", "boto3"}


def test_a_key_with_a_control_character_stays_with_boto3_and_arrives(s3, bucket, tmp_path, agents):
    # (moto's routing cannot serve a key holding a newline; obstore refuses it like these)
    odd = {"ctl/carriage\rreturn.txt": b"return", "ctl/tab\there.txt": b"tab", "ctl/del\x7f.txt": b"delete",
           "ctl/\x1b[31mred.txt": b"escape"}
    s3.seed(bucket, {**odd, "ctl/plain.txt": b"plain"})
    with s3.counting() as counts:
        Path(f"s3://{bucket}/ctl").copy(tmp_path / "down", progress=False)  # obstore refuses to parse these keys
        Path(tmp_path / "down").copy(f"s3://{bucket}/up", progress=False)
        Path(f"s3://{bucket}/ctl").copy(f"s3://{bucket}/copied", progress=False)
    assert counts["GetObject"] == counts["PutObject"] == counts["CopyObject"] == 5
    assert {p.name: p.read_bytes() for p in (tmp_path / "down").iterdir()} == {
        key[len("ctl/"):]: body for key, body in {**odd, "ctl/plain.txt": b"plain"}.items()}
    for prefix in ("up/", "copied/"):
        assert s3.objects(bucket, prefix) == {prefix + key[len("ctl/"):]: body for key, body in
                                              {**odd, "ctl/plain.txt": b"plain"}.items()}
    assert all(sent_by(agents, operation) == {"obstore", "boto3"} for operation in ("GetObject", "PutObject",
                                                                                  "CopyObject"))
