"""A small HTTP proxy in front of the test S3 server that injects faults (loopback only).

Rules (:class:`Rule`) match by S3 operation, a regular expression on the request path, and
optionally only the Nth matching request, and then answer 500 / 503 SlowDown / 403, reset the
connection, send a truncated body, or delay.  Every request that reaches the proxy is counted by
operation (and logged as it came, for servers that are not S3), so tests see retries.
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tfm_jupyter.server import classify_request

ERROR_XML = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected {code}</Message>'
             "<RequestId>proxy</RequestId></Error>")
REASONS = {403: "Forbidden", 500: "Internal Server Error", 503: "Slow Down"}


@dataclass
class Rule:
    """``action``: 'status' (with ``status``/``code``), 'reset', 'truncate' (keep ``keep`` bytes) or 'delay'."""

    action: str
    operation: str | None = None
    path: str | None = None
    nth: int | None = None
    times: int | None = None
    status: int = 500
    code: str = "InternalError"
    keep: int = 100
    seconds: float = 0.0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, operation: str, path: str) -> bool:
        if (self.operation and operation != self.operation) or (self.path and not re.search(self.path, path)):
            return False
        self.seen += 1
        if (self.nth is not None and self.seen != self.nth) or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


class FaultProxy:
    """``with FaultProxy(upstream_url) as proxy:`` - point the client at ``proxy.url``."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.rules: list[Rule] = []
        self.requests: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []  # (method, target) of every request, in order of arrival
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve_connection(self)

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *rules: Rule) -> None:
        with self._lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    # -- one client connection: a sequence of requests (keep-alive) ---------------------------------

    def _serve_connection(self, handler: socketserver.StreamRequestHandler) -> None:
        while True:
            request = _read_request(handler.rfile, handler.wfile)
            if request is None:
                return
            method, target, headers, body = request
            path, _, query = target.partition("?")
            operation = classify_request(method, path, query, {k.lower(): v for k, v in headers})
            with self._lock:
                self.requests[operation] += 1
                self.log.append((method, target))
                rule = next((r for r in self.rules if r.matches(operation, path)), None)
            if rule is not None and rule.action == "delay":
                time.sleep(rule.seconds)
                rule = None
            if rule is not None and rule.action == "reset":
                _reset(handler.connection)
                return
            if rule is not None and rule.action == "status":
                _send(handler.wfile, rule.status, [("Content-Type", "application/xml")],
                      ERROR_XML.format(code=rule.code).encode())
                continue
            status, reason, response_headers, response_body = self._forward(method, target, headers, body)
            if rule is not None and rule.action == "truncate":
                _send(handler.wfile, status, response_headers, response_body[: rule.keep], reason,
                      length=len(response_body))
                _reset(handler.connection)
                return
            _send(handler.wfile, status, response_headers, response_body, reason)

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
                 ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            forwarded = [(k, v) for k, v in headers if k.lower() not in ("transfer-encoding", "connection")]
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in forwarded:
                connection.putheader(name, value)
            if not any(k.lower() == "content-length" for k, _ in forwarded):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            dropped = ("transfer-encoding", "connection") if method == "HEAD" else (
                "transfer-encoding", "connection", "content-length")  # a HEAD's length is the object's
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
            return response.status, response.reason, kept, data
        finally:
            connection.close()


def _read_request(rfile: Any, wfile: Any) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    line = rfile.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = rfile.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lookup = {k.lower(): v for k, v in headers}
    if lookup.get("expect", "").lower() == "100-continue":  # botocore waits for this before the body
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        wfile.flush()
        headers = [(k, v) for k, v in headers if k.lower() != "expect"]
    if lookup.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline()
    else:
        body = rfile.read(int(lookup.get("content-length", "0") or 0))
    return method, target, headers, body


def _send(wfile: Any, status: int, headers: list[tuple[str, str]], body: bytes, reason: str | None = None,
          length: int | None = None) -> None:
    head = [f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Error')}"]
    head += [f"{k}: {v}" for k, v in headers]
    if not any(k.lower() == "content-length" for k, _ in headers):
        head.append(f"Content-Length: {len(body) if length is None else length}")
    wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    wfile.flush()


def _reset(connection: socket.socket) -> None:
    """Close with RST instead of FIN: the client sees 'connection reset by peer'."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
