"""Two real S3 endpoints at once, with different credentials: the test session's moto server (the
default), and a second moto server in its own process that refuses every access key id but its own.
``configure_s3(bucket=...)`` sends some buckets to the second; everything is counted at the servers.
"""

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter

import pytest
from faults import Fault, faults
from widget_driver import User, focus, names, press

from conftest import TEST_SECRET, only
from tfm_jupyter import Path, configure_s3, errors, get_s3_cache_stats, transfer
from tfm_jupyter.browser import browse

OTHER_KEY_ID = "AKIAOTHERENDPOINT001"
OTHER_SECRET = "other-endpoint-secret-never-shown-42"


class OtherEndpoint:
    """The second server, driven through its control routes (which are not counted)."""

    def __init__(self) -> None:
        script = os.path.join(os.path.dirname(__file__), "second_endpoint.py")
        self.process = subprocess.Popen([sys.executable, script, OTHER_KEY_ID], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"the second endpoint did not start: {line!r}"
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def control(self, route: str, data: bytes | None = None, **query: str) -> bytes:
        from urllib.parse import urlencode

        request = urllib.request.Request(f"{self.url}/_tfm/{route}?{urlencode(query)}", data=data,
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    def counts(self) -> Counter:
        return Counter(json.loads(self.control("counts")))

    def new_bucket(self, name: str | None = None) -> str:
        name = name or f"far-{uuid.uuid4().hex[:12]}"
        self.control("create", bucket=name)
        return name

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.control("put", data=data, bucket=bucket, key=key)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return json.loads(self.control("keys", bucket=bucket, prefix=prefix))

    def body(self, bucket: str, key: str) -> bytes:
        return self.control("body", bucket=bucket, key=key)

    def uploads(self, bucket: str) -> list[str]:
        return json.loads(self.control("uploads", bucket=bucket))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def other():
    endpoint = OtherEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def far(other):
    """A bucket on the second endpoint, and the settings that reach it (every `far-*` bucket)."""
    configure_s3(bucket="far-*", endpoint_url=other.url, region="us-east-1",
                 aws_access_key_id=OTHER_KEY_ID, aws_secret_access_key=OTHER_SECRET)
    return other.new_bucket()


class Delta:
    """Requests made at both servers inside a ``with`` block."""

    def __init__(self, s3, other):
        self.s3, self.other = s3, other

    def __enter__(self):
        self._near = self.s3.counting()
        self.near = self._near.__enter__()
        self._far_before = self.other.counts()
        return self

    def __exit__(self, *exc):
        self._near.__exit__(*exc)
        self.far = self.other.counts() - self._far_before


def test_the_bucket_chooses_the_endpoint_and_its_credentials(s3, other, far, bucket):
    other.put(far, "a.txt", b"far away")
    s3.seed(bucket, {"a.txt": b"near"})
    with Delta(s3, other) as delta:
        assert Path(f"s3://{far}/a.txt").read_text() == "far away"
        assert Path(f"s3://{bucket}/a.txt").read_text() == "near"
        assert [p.name for p in Path(f"s3://{far}/").iterdir()] == ["a.txt"]
        Path(f"s3://{far}/new/b.txt").write_text("written there")
    assert only(delta.far, GetObject=1, ListObjectsV2=1, PutObject=1)
    assert only(delta.near, GetObject=1)
    assert other.body(far, "new/b.txt") == b"written there"


def test_the_second_endpoint_refuses_the_default_credentials(other):
    other.new_bucket("plain-bucket-for-refusal")
    configure_s3(bucket="plain-*", endpoint_url=other.url, region="us-east-1")  # the default credentials
    with pytest.raises(PermissionError) as info:
        list(Path("s3://plain-bucket-for-refusal/").iterdir())
    assert "InvalidAccessKeyId" in str(info.value) and f"via endpoint {other.url}" in str(info.value)


def test_the_most_specific_pattern_wins_and_later_calls_replace(other):
    from tfm_jupyter.s3.client import registry

    configure_s3(bucket="lake-*", endpoint_url="http://one.invalid")
    configure_s3(bucket="lake-raw-*", endpoint_url="http://two.invalid")
    configure_s3(bucket="lake-raw-2024", endpoint_url="http://three.invalid")
    assert registry.client_for("lake-x").settings.endpoint_url == "http://one.invalid"
    assert registry.client_for("lake-raw-x").settings.endpoint_url == "http://two.invalid"
    assert registry.client_for("lake-raw-2024").settings.endpoint_url == "http://three.invalid"
    assert registry.client_for("other").settings.endpoint_url is None  # the default
    configure_s3(bucket="lake-*", profile="replaced")
    assert registry.client_for("lake-x").settings.endpoint_url is None  # replaced, not merged
    assert registry.client_for("lake-x").settings.profile == "replaced"


def test_same_named_buckets_on_two_endpoints_never_share_the_cache(s3, other):
    name = f"twin-{uuid.uuid4().hex[:12]}"
    s3.server.create_bucket(name)
    s3.seed(name, {"only-near.txt": b"n"})
    other.new_bucket(name)
    other.put(name, "only-far.txt", b"f")
    assert [p.name for p in Path(f"s3://{name}/").iterdir()] == ["only-near.txt"]  # cached now
    configure_s3(bucket=name, endpoint_url=other.url, region="us-east-1",
                 aws_access_key_id=OTHER_KEY_ID, aws_secret_access_key=OTHER_SECRET)
    assert [p.name for p in Path(f"s3://{name}/").iterdir()] == ["only-far.txt"]
    assert not Path(f"s3://{name}/only-near.txt").exists()
    configure_s3(bucket=name, endpoint_url=s3.endpoint_url)  # back to the first server
    assert [p.name for p in Path(f"s3://{name}/").iterdir()] == ["only-near.txt"]


def test_reconfiguring_one_pattern_clears_only_its_cache(s3, other, far, bucket):
    s3.seed(bucket, {"k.txt": b"k"})
    other.put(far, "f.txt", b"f")
    list(Path(f"s3://{bucket}/").iterdir())
    list(Path(f"s3://{far}/").iterdir())
    configure_s3(bucket="far-*", endpoint_url=other.url, region="us-east-1", max_attempts=3,
                 aws_access_key_id=OTHER_KEY_ID, aws_secret_access_key=OTHER_SECRET)
    with Delta(s3, other) as delta:
        list(Path(f"s3://{bucket}/").iterdir())
        list(Path(f"s3://{far}/").iterdir())
    assert only(delta.near) and only(delta.far, ListObjectsV2=1)


def test_copy_and_move_in_every_direction(s3, other, far, bucket, tmp_path):
    s3.seed(bucket, {"src/a.txt": b"A", "src/sub/b.txt": b"B"})
    near, away = Path(f"s3://{bucket}"), Path(f"s3://{far}")
    with Delta(s3, other) as delta:
        transfer.copy(near / "src", away / "copied", progress=False)
    assert other.keys(far, "copied/") == ["copied/a.txt", "copied/sub/b.txt"]
    assert other.body(far, "copied/sub/b.txt") == b"B"
    assert delta.near["GetObject"] == 2 and delta.far["PutObject"] == 2 and delta.far["CopyObject"] == 0
    transfer.copy(away / "copied", near / "back", progress=False)
    assert s3.keys(bucket, "back/") == ["back/a.txt", "back/sub/b.txt"]
    with Delta(s3, other) as delta:
        transfer.copy(away / "copied", away / "twice", progress=False)
    assert delta.far["CopyObject"] == 2 and delta.far["GetObject"] == 0  # same endpoint: server-side
    transfer.copy(away / "copied", tmp_path / "down", progress=False)
    assert (tmp_path / "down" / "sub" / "b.txt").read_bytes() == b"B"
    (tmp_path / "up.txt").write_text("up")
    transfer.copy(tmp_path / "up.txt", away / "up.txt", progress=False)
    assert other.body(far, "up.txt") == b"up"
    transfer.move(near / "back", away / "moved", progress=False)
    assert s3.keys(bucket, "back/") == [] and other.keys(far, "moved/") == ["moved/a.txt", "moved/sub/b.txt"]
    transfer.move(away / "moved", near / "home", progress=False)
    assert other.keys(far, "moved/") == [] and s3.body(bucket, "home/sub/b.txt") == b"B"
    assert sorted(p.name for p in away.iterdir()) == ["copied", "twice", "up.txt"]  # the cache agrees


def test_a_20_mib_cross_endpoint_copy_goes_multipart(s3, other, far, bucket):
    data = os.urandom(20 * 2**20)
    s3.seed(bucket, {"big.bin": data})
    with Delta(s3, other) as delta:
        transfer.copy(Path(f"s3://{bucket}/big.bin"), Path(f"s3://{far}/big.bin"), progress=False)
    assert other.body(far, "big.bin") == data
    assert delta.far["CreateMultipartUpload"] == 1 and delta.far["UploadPart"] == 3  # 8 + 8 + 4 MiB
    assert delta.far["CompleteMultipartUpload"] == 1 and delta.near["GetObject"] == 1
    assert delta.near["CopyObject"] == 0 and delta.far["CopyObject"] == 0


def test_a_failed_cross_endpoint_copy_leaves_no_target_and_no_pending_upload(s3, other, far, bucket):
    s3.seed(bucket, {"big.bin": os.urandom(20 * 2**20)})
    other.put(far, "big.bin", b"previous")
    with faults(s3, Fault(operation="GetObject", status=500)), pytest.raises(errors.TransferError):
        transfer.copy(Path(f"s3://{bucket}/big.bin"), Path(f"s3://{far}/big.bin"), progress=False)
    assert other.body(far, "big.bin") == b"previous" and other.uploads(far) == []
    assert Path(f"s3://{far}/big.bin").stat().st_size == len(b"previous")


def test_requests_are_split_by_endpoint(s3, other, far, bucket):
    s3.seed(bucket, {"k": b"k"})
    other.put(far, "k", b"k")
    before = get_s3_cache_stats()["requests_by_endpoint"]
    Path(f"s3://{bucket}/k").read_bytes()
    Path(f"s3://{far}/k").read_bytes()
    Path(f"s3://{far}/j").write_bytes(b"j")
    after = get_s3_cache_stats()["requests_by_endpoint"]
    far_label = f"endpoint {other.url}"
    near_label = next(label for label in after if label != far_label)
    grew = {label: Counter(after[label]) - Counter(before.get(label, {})) for label in after}
    assert grew[far_label] == Counter(GetObject=1, PutObject=1)
    assert grew[near_label] == Counter(GetObject=1)


def test_an_error_on_one_endpoint_leaves_the_other_working(s3, other, far, bucket):
    configure_s3(bucket="far-*", endpoint_url=other.url, region="us-east-1",
                 aws_access_key_id="AKIAWRONGKEYID000000", aws_secret_access_key=OTHER_SECRET)
    s3.seed(bucket, {"ok.txt": b"fine"})
    with pytest.raises(PermissionError) as info:
        list(Path(f"s3://{far}/").iterdir())
    message = str(info.value)
    assert f"via endpoint {other.url}" in message and OTHER_SECRET not in message and TEST_SECRET not in message
    assert Path(f"s3://{bucket}/ok.txt").read_text() == "fine"


def test_the_bucket_list_shows_configured_buckets(s3, other, far, bucket):
    configure_s3(bucket="exactly-this-bucket", endpoint_url=other.url, region="us-east-1",
                 aws_access_key_id=OTHER_KEY_ID, aws_secret_access_key=OTHER_SECRET)
    listed = [p.bucket for p in Path("s3://").iterdir()]
    assert "exactly-this-bucket" in listed and bucket in listed
    assert far not in listed  # a glob names no bucket to list


def test_browser_panes_on_two_endpoints_copy_between_them(s3, other, far, bucket):
    s3.seed(bucket, {"report.csv": b"a,b\n"})
    b = browse(f"s3://{bucket}/", f"s3://{far}/")
    b.wait()
    focus(b, "left", "report.csv")
    user = User(b, ("Copy", None, False))
    press(b, "copy")
    user.stop()
    assert other.body(far, "report.csv") == b"a,b\n" and names(b.right) == ["report.csv"]


def test_each_pattern_persists_its_cache_in_a_file_of_its_own(s3, other, far, bucket, tmp_path):
    import sqlite3

    from tfm_jupyter import configure_s3_cache

    other.put(far, "p.txt", b"p")
    s3.seed(bucket, {"q.txt": b"q"})
    configure_s3_cache(persist=tmp_path)
    list(Path(f"s3://{far}/").iterdir())
    list(Path(f"s3://{bucket}/").iterdir())

    def buckets_in(path):
        with sqlite3.connect(path) as db:
            return {row[0] for row in db.execute("SELECT DISTINCT bucket FROM entries")}

    own = [p for p in tmp_path.glob("s3cache-*.sqlite3")]
    assert len(own) == 1 and buckets_in(own[0]) == {far}
    assert bucket in buckets_in(tmp_path / "s3cache.sqlite3") and far not in buckets_in(tmp_path / "s3cache.sqlite3")


def test_identical_settings_under_two_patterns_share_one_client_so_copies_stay_server_side(s3, bucket):
    other = s3.new_bucket("twin")
    s3.seed(bucket, {"k.bin": b"x" * 1000})
    settings = {"endpoint_url": s3.endpoint_url, "max_attempts": 3}
    configure_s3(bucket=bucket, **settings)
    configure_s3(bucket=other, **settings)  # a second pattern, the same settings
    with s3.counting() as counts:
        transfer.copy(f"s3://{bucket}/k.bin", f"s3://{other}/k.bin", progress=False)
    assert counts["CopyObject"] == 1 and not counts["GetObject"] and not counts["PutObject"]  # server-side
    assert s3.body(other, "k.bin") == b"x" * 1000


def test_the_default_client_is_in_requests_by_endpoint(s3, bucket):
    Path(f"s3://{bucket}/").exists()
    configure_s3(max_attempts=4)  # the default client is rebuilt; what it sent before still counts
    Path(f"s3://{bucket}/k").exists()
    split = get_s3_cache_stats()["requests_by_endpoint"]
    assert sum(sum(ops.values()) for label, ops in split.items() if s3.endpoint_url in label) >= 2
