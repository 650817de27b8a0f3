"""No botocore exception escapes; messages say what to do and never contain credentials."""

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
import traceback

import pytest

from conftest import TEST_KEY_ID, TEST_SECRET, only
from tfm_jupyter import Path, configure_s3, errors
from tfm_jupyter.s3 import client

DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
          b"<Message>Access Denied</Message></Error>")


@contextlib.contextmanager
def denied_for(s3, key_fragment, exact=False):
    """Make the server answer 403 AccessDenied to every request whose path contains ``key_fragment``
    (or, ``exact``, is it)."""

    def wrap(app):
        def deny(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path == key_fragment if exact else key_fragment in path:
                start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                                 ("Content-Length", str(len(DENIED)))])
                return [DENIED]
            return app(environ, start_response)

        return deny

    s3.server.middleware.append(wrap)
    try:
        yield
    finally:
        s3.server.middleware.remove(wrap)


def assert_no_botocore(exc):
    """What the user sees (type and traceback text) mentions no botocore exception."""
    assert not type(exc).__module__.startswith(("botocore", "boto3", "s3transfer"))
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    shown = "".join(traceback.format_exception(exc))
    assert "botocore.exceptions" not in shown and "ClientError" not in shown


def test_access_denied_is_a_permission_error_that_names_the_permission(s3, root, bucket):
    s3.seed(bucket, {"secret/plan.txt": b"x"})
    with denied_for(s3, "/secret/plan.txt"), pytest.raises(PermissionError) as info:
        (root / "secret" / "plan.txt").read_bytes()
    assert isinstance(info.value, errors.AccessDenied)
    assert "s3:GetObject" in str(info.value) and "plan.txt" in str(info.value)
    assert_no_botocore(info.value)


def test_missing_credentials_say_how_to_configure_them(monkeypatch, root):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    client.reset_s3_configuration()
    with pytest.raises(errors.CredentialsMissing) as info:
        (root / "x").read_bytes()
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert "AWS_ACCESS_KEY_ID" in message and "configure_s3" in message and "aws configure" in message
    assert_no_botocore(info.value)


def test_unknown_profile_is_a_credentials_error(root):
    configure_s3(profile="no-such-profile")
    with pytest.raises(errors.CredentialsMissing, match="no-such-profile"):
        root.exists()


def test_unreachable_endpoint_fails_fast_with_a_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    configure_s3(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=2, connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(ConnectionError) as info:
        Path("s3://any-bucket-tfm/key").read_bytes()
    assert time.monotonic() - started < 10
    assert isinstance(info.value, errors.EndpointUnreachable) and "configure_s3(endpoint_url" in str(info.value)
    assert_no_botocore(info.value)


def test_configure_s3_endpoint_overrides_the_environment(s3, bucket, monkeypatch):
    s3.seed(bucket, {"k": b"v"})
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a wrong endpoint in the environment
    configure_s3(endpoint_url=s3.endpoint_url)
    assert Path(f"s3://{bucket}/k").read_bytes() == b"v"


def test_reconfiguring_clears_the_cache(s3, root, bucket):
    s3.seed(bucket, {"k": b"v"})
    assert (root / "k").exists()
    configure_s3(region="us-east-1")
    with s3.counting() as counts:
        assert (root / "k").exists()
    assert only(counts, ListObjectsV2=1)


def test_debug_log_has_one_line_per_request_and_cache_decision_and_no_secrets(s3, root, bucket, caplog):
    s3.seed(bucket, {"a.txt": b"a"})
    with caplog.at_level(logging.DEBUG, logger="tfm_jupyter"):
        (root / "a.txt").exists()
        (root / "a.txt").exists()
        (root / "a.txt").read_bytes()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("tfm_jupyter")]
    requests = [line for line in lines if line.startswith("S3 ")]
    assert len(requests) == 2
    assert any("ListObjectsV2" in line and f"s3://{bucket}/a.txt" in line and "200" in line for line in requests)
    assert any(line.startswith("cache hit") for line in lines) and any(line.startswith("cache miss") for line in lines)
    text = "\n".join(caplog.text.splitlines())
    assert TEST_KEY_ID not in text and TEST_SECRET not in text


def test_settings_repr_never_shows_credentials():
    settings = configure_s3(aws_access_key_id="AKIAEXPLICIT00000000", aws_secret_access_key="explicit-secret-1234")
    assert "explicit-secret-1234" not in repr(settings) and "AKIAEXPLICIT" not in repr(settings)
    assert errors.redact("key AKIAEXPLICIT00000000 secret explicit-secret-1234") == "key [redacted] secret [redacted]"


def test_cached_api_call_caches_reads_and_updates_the_cache_after_writes(s3, root, bucket):
    s3.seed(bucket, {"k.txt": b"12345"})
    path = root / "k.txt"
    with s3.counting() as counts:
        first = path._cached_api_call("head_object", ttl=300)
        second = path._cached_api_call("head_object", Bucket=bucket, Key="k.txt", ttl=300)
    assert first["ContentLength"] == second["ContentLength"] == 5
    assert only(counts, HeadObject=1)
    list(root.iterdir())
    path._cached_api_call("put_object", Key="new.txt", Body=b"n")
    assert sorted(p.name for p in root.iterdir()) == ["k.txt", "new.txt"]


HEAVY = ("boto3", "botocore", "s3transfer", "IPython", "moto", "pandas", "pyarrow", "polars", "duckdb", "fsspec",
         "ipywidgets", "anywidget")


def test_import_is_lazy():
    # What makes an import slow is what it drags in: asserted by module, not by a stopwatch.
    code = "import sys, tfm_jupyter; print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    result = subprocess.run([sys.executable, "-c", code, *HEAVY], capture_output=True, text=True, check=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.stdout.strip() == "[]"


def test_import_writes_no_files(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-c", "import tfm_jupyter"], check=True, env=env, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_bucket_names_the_near_ones_for_one_listbuckets(s3, bucket):
    typo = bucket[:-1] + ("x" if bucket[-1] != "x" else "y")
    with s3.counting() as counts, pytest.raises(FileNotFoundError) as raised:
        Path(f"s3://{typo}/data.csv").read_text()
    assert f"did you mean 's3://{bucket}/'" in str(raised.value) and raised.value.filename == f"s3://{typo}/data.csv"
    assert counts == {"GetObject": 1, "ListBuckets": 1}


def test_a_missing_bucket_without_a_near_name_says_how_to_list_or_which_there_are(s3, bucket):
    with pytest.raises(FileNotFoundError, match=r"No such bucket \(ListObjectsV2\); (these credentials see .*s3://"
                       + bucket + "/|%s3ls s3:// )"):
        list(Path("s3://zz-nothing-like-it/").iterdir())
    # ListBuckets refused: the hint says how to list, and the error stays the missing bucket
    with denied_for(s3, "/", exact=True), pytest.raises(FileNotFoundError,
                                                        match=r"No such bucket \(GetObject\); %s3ls s3:// "):
        Path("s3://zz-nothing-like-it/x").read_text()
