"""Fault rules for the test server: fail, delay, hold or cut short chosen S3 requests.

A rule matches by S3 operation, a regular expression on the request path (``/bucket/key``) and
optionally only the Nth matching request; it fires ``times`` times (``None``: forever).  A
:class:`Gate` holds matching requests at the server until the test releases them, so a transfer
can be stopped at a known point instead of raced with a timer.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ERROR_BODY = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
              "<Message>{message}</Message><RequestId>fault</RequestId></Error>")
STATUS_TEXT = {403: "403 Forbidden", 500: "500 Internal Server Error", 503: "503 Slow Down"}


class Gate:
    """Holds requests at the server: ``arrived(n)`` waits until ``n`` are held, ``release()`` lets all go.

    ``on_arrival(count)`` runs in the server thread as each request is held (e.g. to send a signal
    once every worker is known to be waiting).  A held request gives up after ``limit`` seconds, so a
    failing test cannot hang the server.
    """

    def __init__(self, on_arrival: Any = None, limit: float = 120.0):
        self.on_arrival, self.limit = on_arrival, limit
        self.count = 0
        self._changed = threading.Condition()
        self._open = threading.Event()

    def hold(self) -> None:
        with self._changed:
            self.count += 1
            count = self.count
            self._changed.notify_all()
        if self.on_arrival is not None:
            self.on_arrival(count)
        self._open.wait(self.limit)

    def arrived(self, count: int = 1, timeout: float = 60.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout)

    def release(self) -> None:
        self._open.set()


@dataclass
class Fault:
    """What to do to matching requests: ``status`` (+ ``code``), ``delay`` seconds, ``hold`` at a
    :class:`Gate`, or ``truncate`` bytes."""

    operation: str | None = None
    path: str | None = None
    query: str | None = None  # a regular expression searched in the query string
    nth: int | None = None
    times: int | None = None
    status: int | None = None
    code: str = "InternalError"
    delay: float = 0.0
    truncate: int | None = None
    hold: Gate | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def matches(self, operation: str, path: str, query: str = "") -> bool:
        if self.operation and self.operation != operation:
            return False
        if self.path and not re.search(self.path, path):
            return False
        if self.query and not re.search(self.query, query):
            return False
        self.seen += 1
        if self.nth is not None and self.seen != self.nth:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class FaultInjector:
    """WSGI middleware applying :class:`Fault` rules in front of moto."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self._lock = threading.Lock()

    def wrap(self, app: Any) -> Any:
        def faulty(environ: dict[str, Any], start_response: Any) -> Any:
            operation, path = environ.get("tfm.operation", ""), environ.get("PATH_INFO", "")
            query = environ.get("QUERY_STRING", "")
            with self._lock:
                rule = next((r for r in self.rules if r.matches(operation, path, query)), None)
            if rule is None:
                return app(environ, start_response)
            if rule.hold is not None:
                rule.hold.hold()
            if rule.delay:
                time.sleep(rule.delay)
            if rule.status:
                body = ERROR_BODY.format(code=rule.code, message="injected fault").encode()
                start_response(STATUS_TEXT.get(rule.status, f"{rule.status} Error"),
                               [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
                return [body]
            if rule.truncate is not None:
                return _truncated(app, environ, start_response, rule.truncate)
            return app(environ, start_response)

        return faulty


def _truncated(app: Any, environ: dict[str, Any], start_response: Any, keep: int) -> Any:
    """Send the real headers (full Content-Length) but only ``keep`` bytes, then drop the connection."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    body = b"".join(app(environ, capture))
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "connection"] + [("Connection", "close")]
    start_response(captured["status"], headers)
    return [body[:keep]]


@contextlib.contextmanager
def faults(s3: Any, *rules: Fault) -> Iterator[FaultInjector]:
    """Install ``rules`` on the test server for the duration of the block."""
    injector = FaultInjector()
    injector.rules.extend(rules)
    s3.server.middleware.append(injector.wrap)
    try:
        yield injector
    finally:
        s3.server.middleware.remove(injector.wrap)
        for rule in rules:  # no request stays held after its test
            if rule.hold is not None:
                rule.hold.release()


def in_thread(action: Any) -> Any:
    """Start ``action`` on a thread; the returned ``join()`` waits for it and gives back what it
    raised (None if nothing, ``"running"`` if it is still running after ``timeout``)."""
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()

    def join(timeout: float = 120) -> Any:
        worker.join(timeout)
        return "running" if worker.is_alive() else outcome.get("error")

    return join
