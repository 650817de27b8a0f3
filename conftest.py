"""Test rig for tests/ and notebooks/: one real S3 endpoint (moto's server) per session, a bucket per test.

The server starts in ``pytest_configure`` so that its address is in the environment before any
notebook kernel (nbval) or JupyterLab (browser tests) is started: they inherit it like a user's
kernel inherits ``AWS_ENDPOINT_URL``.  Requests are counted at the server.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from tfm_jupyter.demo import seed_demo
from tfm_jupyter.server import LocalS3Server

TEST_KEY_ID = "AKIATESTKEYID0000000"
TEST_SECRET = "tfm-test-secret-value-do-not-print-0123456789"

_server: LocalS3Server | None = None

# Property tests explore the same examples on every run: a suite that passes only sometimes is red.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


def pytest_configure(config: pytest.Config) -> None:
    global _server
    _server = LocalS3Server().start()
    seed_demo(_server)  # the notebooks (nbval) and the browser tests use the demo bucket
    isolated = tempfile.mkdtemp(prefix="tfm-aws-")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID=TEST_KEY_ID,
        AWS_SECRET_ACCESS_KEY=TEST_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=_server.endpoint_url,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.path.join(isolated, "config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(isolated, "credentials"),
        TFM_TEST_ENDPOINT=_server.endpoint_url,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()


class S3Fixture:
    """The session's server plus helpers for one test."""

    def __init__(self, server: LocalS3Server):
        self.server = server

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def counting(self) -> contextlib.AbstractContextManager[Counter]:
        """``with s3.counting() as counts:`` - requests made inside, by S3 operation."""
        return self.server.counting()

    def new_bucket(self, prefix: str = "tfm") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.server.create_bucket(name)
        return name

    def seed(self, bucket: str, objects: dict[str, bytes]) -> None:
        self.server.put_objects(bucket, objects)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The server's truth, read from moto's backend (no request counted)."""
        return sorted(key for key in self.server.backend.get_bucket(bucket).keys if key.startswith(prefix))

    def body(self, bucket: str, key: str) -> bytes:
        return self.server.backend.get_object(bucket, key).value

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every key below ``prefix`` with its bytes, read from moto's backend (no request counted)."""
        return {key: self.body(bucket, key) for key in self.keys(bucket, prefix)}

    def pending_uploads(self, bucket: str) -> list[str]:
        return [upload.key_name for upload in self.server.backend.get_bucket(bucket).multiparts.values()]


@pytest.fixture(scope="session")
def s3() -> S3Fixture:
    assert _server is not None
    return S3Fixture(_server)


@pytest.fixture(autouse=True)
def _fresh_library_state() -> Iterator[None]:
    """Each test starts with the default configuration and an empty cache."""
    from tfm_jupyter.s3 import client
    from tfm_jupyter.s3.stores import configure_s3_cache, get_s3_cache

    client.reset_s3_configuration()
    cache = get_s3_cache()
    configure_s3_cache(ttl=60, max_entries=1000, max_bytes=64 * 2**20, persist=False)
    cache.clear()
    yield
    configure_s3_cache(persist=False)
    client.reset_s3_configuration()
    from tfm_jupyter.config import reset_storage_configuration

    reset_storage_configuration()


@pytest.fixture
def bucket(s3: S3Fixture) -> str:
    """A new, empty bucket on the test server."""
    return s3.new_bucket()


@pytest.fixture
def ip() -> Iterator[Any]:
    """A real IPython shell with ``%load_ext tfm_jupyter`` (unloaded again, and ``%s3cd`` undone, after)."""
    from IPython.core.interactiveshell import InteractiveShell

    from tfm_jupyter import commands

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tfm_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "tfm_jupyter")
    commands.cd(None)


@pytest.fixture
def root(bucket: str) -> Any:
    """``Path('s3://<fresh bucket>/')``."""
    from tfm_jupyter import Path

    return Path(f"s3://{bucket}/")


def run_threads(worker: Any, count: int = 16) -> list[BaseException]:
    """Run ``worker(n)`` in ``count`` threads at once; returns what they raised."""
    import threading

    failures: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            worker(n)
        except BaseException as exc:  # reported to the caller
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


@pytest.fixture
def interrupt_main() -> Iterator[Any]:
    """A function sending SIGINT to the main thread, as the notebook's stop button does.

    For the test's duration SIGINT raises KeyboardInterrupt whatever the suite was started from (a
    shell starts background jobs with SIGINT ignored, and Python then keeps ignoring it), and
    automatic garbage collection is off: a signal whose handler runs inside a gc callback
    (hypothesis installs one) raises its KeyboardInterrupt there, where Python swallows it.
    """
    import gc
    import signal
    import threading

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
    finally:
        if was_enabled:
            gc.enable()
        signal.signal(signal.SIGINT, previous)


def only(counts: Counter, **expected: int) -> bool:
    """True when ``counts`` holds exactly ``expected`` (operations not named must be zero)."""
    return +counts == Counter(expected)


# -- other storage: real servers, started on first use and stopped with the session ---------------------


@pytest.fixture(scope="session")
def sshd() -> Iterator[Any]:
    """OpenSSH's sshd on a loopback port, its SFTP requests logged (``sshd.requests()``)."""
    from servers import SSHServer

    server = SSHServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ftpd() -> Iterator[Any]:
    """pyftpdlib on a loopback port, its commands counted (``ftpd.counted()``)."""
    import logging

    from servers import FTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = FTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def sftp_root(sshd: Any) -> Any:
    """A fresh folder on the SSH server, as ``Path('sftp://127.0.0.1:PORT/…')`` (configured explicitly)."""
    from tfm_jupyter import Path, configure_storage

    configure_storage(f"sftp://127.0.0.1:{sshd.port}", **sshd.options())
    root = Path(sshd.uri(f"t-{uuid.uuid4().hex[:12]}"))
    root.mkdir()
    return root


@pytest.fixture
def ftp_root(ftpd: Any) -> Any:
    """A fresh folder on the FTP server, as ``Path('ftp://tfm@127.0.0.1:PORT/…')``."""
    from tfm_jupyter import Path, configure_storage

    configure_storage(f"ftp://127.0.0.1:{ftpd.port}", password=ftpd.password)
    root = Path(ftpd.uri(f"t-{uuid.uuid4().hex[:12]}"))
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def azurite() -> Iterator[Any]:
    """npm's Azurite on a loopback port (its requests in ``azurite.requests()``)."""
    from servers import Azurite

    server = Azurite().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[Any]:
    """fake-gcs-server on a loopback port, found through STORAGE_EMULATOR_HOST."""
    from servers import FakeGCS

    server = FakeGCS().start()
    yield server
    server.stop()


@pytest.fixture
def az_root(azurite: Any) -> Any:
    """A fresh container on Azurite, as ``Path('az://…/')`` (configured with its connection string)."""
    from tfm_jupyter import Path, configure_storage

    configure_storage("az://", connection_string=azurite.connection_string)
    root = Path(f"az://t-{uuid.uuid4().hex[:12]}/")
    root.mkdir()
    return root


@pytest.fixture
def gs_root(fake_gcs: Any) -> Any:
    """A fresh bucket on fake-gcs-server, as ``Path('gs://…/')`` (zero configuration: the emulator's
    environment variable)."""
    from tfm_jupyter import Path

    root = Path(f"gs://t-{uuid.uuid4().hex[:12]}/")
    root.mkdir()
    return root
