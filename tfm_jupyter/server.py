"""A local S3 endpoint: moto's server in a thread, with every request counted by S3 operation.

Used by the demo, the tests and the benchmarks, so request counts are measured where they cost:
at the server.  Seeding goes straight into moto's in-process backend (thousands of keys per
second) instead of over HTTP.  Needs the ``moto[server]`` extra.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs

from .uri import guess_content_type

__all__ = ["LocalS3Server", "classify_request"]

ACCOUNT_ID = "123456789012"  # moto's default account
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def classify_request(method: str, path: str, query: str, headers: Mapping[str, str]) -> str:
    """Name the S3 API operation of a path-style request (``GET /bucket?list-type=2`` -> ``ListObjectsV2``)."""
    bucket, _, key = path.lstrip("/").partition("/")
    params = parse_qs(query, keep_blank_values=True)
    if not bucket:
        return "ListBuckets"
    if not key:
        return _bucket_operation(method, params)
    return _object_operation(method, params, "x-amz-copy-source" in headers)


def _bucket_operation(method: str, params: Mapping[str, Any]) -> str:
    if method == "GET":
        for flag, name in (("list-type", "ListObjectsV2"), ("versions", "ListObjectVersions"),
                           ("uploads", "ListMultipartUploads"), ("location", "GetBucketLocation"),
                           ("versioning", "GetBucketVersioning")):
            if flag in params:
                return name
        return "ListObjects"
    if method == "PUT":
        return "PutBucketVersioning" if "versioning" in params else "CreateBucket"
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    return {"HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, f"{method}Bucket")


def _object_operation(method: str, params: Mapping[str, Any], is_copy: bool) -> str:
    if method == "PUT":
        if "partNumber" in params:
            return "UploadPartCopy" if is_copy else "UploadPart"
        if "tagging" in params:
            return "PutObjectTagging"
        return "CopyObject" if is_copy else "PutObject"
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in params else "CompleteMultipartUpload"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in params else "DeleteObject"
    if method == "GET":
        return "ListParts" if "uploadId" in params else ("GetObjectTagging" if "tagging" in params else "GetObject")
    return {"HEAD": "HeadObject"}.get(method, f"{method}Object")


class LocalS3Server:
    """moto's S3 server on a free loopback port, counting requests by operation.

    ``with LocalS3Server() as server:`` starts it; ``server.endpoint_url`` is what boto3 needs;
    ``server.counting()`` measures the requests made inside a ``with`` block.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.requests: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.middleware: list[Callable[[WSGIApp], WSGIApp]] = []  # inside the counter: sees S3 requests
        self.outer: list[Callable[[WSGIApp], WSGIApp]] = []  # outside it: for control routes, not counted

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalS3Server:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        app = self._counting(DomainDispatcherApplication(create_backend_app))
        for wrap in self.outer:
            app = wrap(app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-s3", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Serve until the server is stopped or the process is interrupted."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _counting(self, app: WSGIApp) -> WSGIApp:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            headers = {name[5:].lower().replace("_", "-"): value
                       for name, value in environ.items() if name.startswith("HTTP_")}
            operation = classify_request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                         environ.get("QUERY_STRING", ""), headers)
            with self._lock:
                self.requests[operation] += 1
                self.log.append((operation, environ.get("PATH_INFO", "")))
            handler = app
            for wrap in self.middleware:
                handler = wrap(handler)
            environ["tfm.operation"] = operation
            return handler(environ, start_response)

        return counted

    def add_control(self, routes: Mapping[str, Callable[[dict[str, str], bytes], Any]]) -> None:
        """Answer ``/_tfm/<name>?query`` with ``routes[name](query, body)`` (bytes as they are, anything
        else as JSON), before and without counting: for test and benchmark harnesses (call before
        ``start()``)."""

        def wrap(app: WSGIApp) -> WSGIApp:
            def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
                path = environ.get("PATH_INFO", "")
                if not path.startswith("/_tfm/"):
                    return app(environ, start_response)
                query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                route = routes.get(path[len("/_tfm/"):])
                answer = route(query, body) if route else {"error": "unknown control route"}
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                          ("Content-Length", str(len(data)))])
                return [data]

            return handle

        self.outer.append(wrap)

    # -- counting ----------------------------------------------------------------------------------

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.requests)

    @contextlib.contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        """``with server.counting() as counts:`` - afterwards ``counts`` holds the requests made inside."""
        before = self.snapshot()
        counts: Counter[str] = Counter()
        try:
            yield counts
        finally:
            counts.update(self.snapshot() - before)

    # -- seeding through moto's backend (no HTTP) ---------------------------------------------------

    @property
    def backend(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT_ID]["global"]

    def create_bucket(self, name: str, region: str = "us-east-1") -> None:
        self.backend.create_bucket(name, region)

    def put_objects(self, bucket: str, objects: Mapping[str, bytes]) -> None:
        """Store many objects at once (about 30,000 per second), typed by their names as uploads are."""
        backend = self.backend
        for key, value in objects.items():
            stored = backend.put_object(bucket, key, value)
            stored.set_metadata({"Content-Type": guess_content_type(key)})
