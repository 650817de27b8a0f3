"""The only module that talks to boto3: clients, retries, pagination and request metering.

An :class:`S3Client` is one endpoint and identity: its own lazily built botocore client, connection
pool, credential chain and request counts.  :class:`ClientRegistry` chooses the client for a bucket
from :func:`configure_s3`'s settings (the default, or the most specific bucket pattern).  Every HTTP
attempt is counted by operation and logged on the ``tfm_jupyter.s3`` logger, one line each, without
headers (so without credentials).  Failures become :mod:`tfm_jupyter.errors` (see ``errormap``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .. import errors
from ..cancel import check_cancelled
from .errormap import CREDENTIALS_HELP, api_name, bucket_hint, location_of, translate
from .throttle import THROTTLING_CODES, ConcurrencyWindow

__all__ = [
    "CREDENTIALS_HELP",
    "ClientRegistry",
    "S3Client",
    "S3Settings",
    "api_name",
    "client_for",
    "configure_s3",
    "get_client",
    "registry",
    "request_counts",
    "requests_by_endpoint",
    "reset_s3_configuration",
]

log = logging.getLogger("tfm_jupyter.s3")


@dataclass(frozen=True)
class S3Settings:
    """How the S3 client is built; change it with :func:`configure_s3`."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    retry_mode: str = "standard"  # throttling is met by the client's ConcurrencyWindow (see .throttle)
    max_attempts: int = 5
    connect_timeout: float = 10
    read_timeout: float = 60
    max_pool_connections: int = 64
    max_concurrency: int = 10  # transfers with big (multipart) files: their parts are parallel already
    small_file_concurrency: int = 32  # many small files: at 20-100 ms a request, what is in flight decides
    data_plane: str = "auto"  # small files' GET/PUT/COPY: "obstore" (Rust, off the GIL), "boto3", or auto
    addressing_style: str | None = None
    anonymous: bool = False
    credentials: tuple[str | None, str | None, str | None] = field(default=(None, None, None), repr=False)

    @property
    def pool_size(self) -> int:
        """Connections kept: one for every request a transfer may have in flight."""
        return max(self.max_pool_connections, self.small_file_concurrency, self.max_concurrency)

    @property
    def shown_endpoint(self) -> str | None:
        """The endpoint without any ``user:password@`` in it: how messages, reprs and stats name it."""
        return errors.strip_userinfo(self.endpoint_url) if self.endpoint_url else None

    @property
    def label(self) -> str:
        """Where and as whom, for messages: ``endpoint http://…, profile p`` (never a credential)."""
        shown = [f"endpoint {self.shown_endpoint}" if self.endpoint_url else "AWS"]
        if self.profile:
            shown.append(f"profile {self.profile}")
        if self.anonymous:
            shown.append("anonymous")
        return errors.redact(", ".join(shown))

    def __repr__(self) -> str:  # never show credentials, even by accident
        shown = ", ".join(
            f"{name}={getattr(self, 'shown_endpoint' if name == 'endpoint_url' else name)!r}"
            for name in ("endpoint_url", "profile", "region", "retry_mode", "max_attempts",
                         "connect_timeout", "read_timeout", "anonymous")
        )
        return f"S3Settings({shown})"




_SETTING_NAMES = ("endpoint_url", "profile", "region", "retry_mode", "max_attempts", "connect_timeout",
                  "read_timeout", "max_pool_connections", "addressing_style", "anonymous", "max_concurrency",
                  "small_file_concurrency", "data_plane")


class S3Client:
    """One endpoint and identity: a botocore client built on first use, and what it sent."""

    def __init__(self, settings: S3Settings, tally: Callable[[str], None], via: str = ""):
        self.settings = settings
        self.via = via  # named in error messages when the client was chosen by a bucket pattern
        self.counts: Counter[str] = Counter()
        self._tally = tally
        self._boto: Any = None
        self.session: Any = None  # the boto3 session the client was built from (its credential chain)
        self._lock = threading.Lock()
        self.window = ConcurrencyWindow(settings.pool_size)
        self._slots = threading.local()  # the round this thread's request in flight took its slot in

    def __repr__(self) -> str:
        return f"S3Client({self.label})"

    @property
    def label(self) -> str:
        """The endpoint this client talks to (once built, the one botocore resolved from the
        environment too) and its profile: how the meter and error messages name it."""
        if self._boto is None or self.settings.endpoint_url:
            return self.settings.label
        resolved = errors.strip_userinfo(self._boto.meta.endpoint_url)
        return self.settings.label.replace("AWS", f"endpoint {resolved}", 1)

    @property
    def boto(self) -> Any:
        """The botocore S3 client (thread-safe), created on first use."""
        if self._boto is None:
            with self._lock:
                if self._boto is None:
                    self._boto = self._create()
        return self._boto

    @property
    def region(self) -> str | None:
        return self.boto.meta.region_name

    def _create(self) -> Any:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        settings = self.settings
        key_id, secret, token = settings.credentials
        try:
            session = boto3.session.Session(
                botocore_session=_botocore_session(), profile_name=settings.profile, region_name=settings.region,
                aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
            )
            config = Config(
                retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
                connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
                # a connection for every request a transfer may have in flight
                max_pool_connections=settings.pool_size,
                s3={"addressing_style": settings.addressing_style} if settings.addressing_style else None,
                signature_version=UNSIGNED if settings.anonymous else "s3v4", user_agent_extra="tfm_jupyter",
            )
            boto = session.client("s3", endpoint_url=settings.endpoint_url, config=config)
        except BotoCoreError as exc:
            raise self.translate(exc, "configure", None) from None
        _remember_credentials(session)
        self.session = session
        redact_library_logs()
        events = boto.meta.events
        events.register("before-parameter-build.s3", _note_target)
        events.register("request-created.s3", _note_start)
        events.register("response-received.s3", self._count_and_log)
        events.register("before-send.s3", self._take_slot)
        events.register("needs-retry.s3", self._give_slot)
        events.register("after-call-error.s3", self._give_slot)  # an attempt that raised past botocore
        return boto

    def _take_slot(self, **_: Any) -> None:
        if getattr(self._slots, "round", None) is None:  # one request at a time per thread
            self._slots.round = self.window.acquire()

    def _give_slot(self, response: Any = None, **_: Any) -> None:
        taken_in, self._slots.round = getattr(self._slots, "round", None), None
        if taken_in is not None:
            self.window.release(taken_in, _throttled(response))

    def _count_and_log(self, event_name: str, context: dict[str, Any], exception: Any = None,
                       response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        outcome = response_dict["status_code"] if response_dict else type(exception).__name__
        self.note_request(event_name.rsplit(".", 1)[-1], context.get("tfm_location") or "", outcome,
                          context.get("tfm_started"), context.get("retries", {}).get("attempt", 1))

    def note_request(self, operation: str, location: str, outcome: Any, started: float | None,
                     attempt: int = 1) -> None:
        """Count one HTTP attempt (whichever library sent it: botocore, or the data plane) and log it."""
        with self._lock:
            self.counts[operation] += 1
        self._tally(operation)
        if not log.isEnabledFor(logging.DEBUG):
            return
        elapsed = f"{(time.perf_counter() - started) * 1000:.1f} ms" if started else "?"
        log.debug("S3 %s %s -> %s in %s (attempt %s, %s)", operation, location, outcome, elapsed, attempt,
                  self.settings.label)

    # -- calls ----------------------------------------------------------------------------------

    def translate(self, exc: Exception, operation: str, params: dict[str, Any] | None) -> errors.S3Error:
        found = translate(exc, operation, params, self.settings, self.via)
        if isinstance(found, errors.BucketNotFound) and operation != "list_buckets" and params:
            hint = bucket_hint(str(params.get("Bucket", "")), self._bucket_names)
            return type(found)(f"{found.strerror}; {hint}", found.filename, found.operation)
        return found

    def _bucket_names(self) -> list[str]:
        """The buckets these credentials see (one ListBuckets, for a did-you-mean after a NoSuchBucket)."""
        return [bucket["Name"] for bucket in self.boto.list_buckets().get("Buckets", [])]

    @contextlib.contextmanager
    def mapped_errors(self, operation: str, params: dict[str, Any] | None = None) -> Iterator[None]:
        """Turn any botocore exception raised inside the block into an :class:`errors.S3Error`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise self.translate(exc, operation, params) from None

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Run one S3 API operation (boto3 method name) and return its response."""
        boto = self.boto
        with self.mapped_errors(operation, params):
            return getattr(boto, operation)(**params)

    def operation_takes(self, operation: str, parameter: str) -> bool:
        """Whether the API operation's input has ``parameter`` (from botocore's service model)."""
        model = self.boto.meta.service_model.operation_model(api_name(operation))
        return parameter in model.input_shape.members if model.input_shape else False

    def paginate(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield the pages of a paginated operation (e.g. ``list_objects_v2``), one request each."""
        paginator = self.boto.get_paginator(operation)
        with self.mapped_errors(operation, params):
            pages = iter(paginator.paginate(**params))
            while True:
                check_cancelled()  # before each page's request: a cancel stops a long chain
                page = next(pages, None)
                if page is None:
                    return
                yield page

    def get_stream(self, **params: Any) -> tuple[dict[str, Any], ResponseStream]:
        """GetObject, returning the response metadata and a body whose errors are mapped too."""
        response = self.call("get_object", **params)
        return response, ResponseStream(response.pop("Body"), params, self)

    def presign(self, operation: str, params: dict[str, Any], expires: int) -> str:
        """A presigned URL for ``operation`` (no request is sent)."""
        with self.mapped_errors(operation, params):
            return self.boto.generate_presigned_url(operation, Params=params, ExpiresIn=expires)


class ResponseStream:
    """A GetObject body: ``read(n)`` maps network failures and short bodies to ``OSError``."""

    def __init__(self, body: Any, params: dict[str, Any], client: S3Client):
        self._body, self._params, self._client = body, params, client

    def read(self, amount: int | None = None) -> bytes:
        with self._client.mapped_errors("get_object", self._params):
            return self._body.read(amount)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection must not raise
            self._body.close()


# -- which client serves a bucket ------------------------------------------------------------------


class ClientRegistry:
    """The default settings, the settings of bucket patterns, and one client per distinct setting.

    The most specific pattern wins: an exact bucket name over any glob, a longer glob over a shorter.
    Patterns with identical settings share one client (a copy between their buckets stays
    server-side); the default client is its own (its errors name no pattern).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._default = S3Settings()
        self._patterns: dict[str, S3Settings] = {}
        self._clients: dict[tuple[S3Settings, bool], S3Client] = {}
        self._every_client: list[S3Client] = []  # the meter counts retired clients too
        self._listeners: list[Callable[[list[str | None], bool], None]] = []
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def _tally(self, operation: str) -> None:
        with self._counts_lock:
            self.counts[operation] += 1

    def on_change(self, listener: Callable[[list[str | None], bool], None]) -> None:
        """``listener(patterns, everything)`` runs after each change: the ``patterns`` (None: the
        default) whose client was rebuilt, or with ``everything`` all settings were reset."""
        self._listeners.append(listener)

    def configure(self, bucket: str | None, changes: dict[str, Any]) -> S3Settings:
        with self._lock:
            if bucket is None:
                old = [self._default]
                self._default = replace(self._default, **changes)
                new = self._default
            else:
                old = [self._patterns[bucket]] if bucket in self._patterns else []
                new = self._patterns[bucket] = replace(S3Settings(), **changes)  # a later call replaces
            for key in [k for k in self._clients if k[0] in (*old, new)]:
                del self._clients[key]  # rebuilt on next use: the environment may have changed too
            affected = [bucket, *(p for p, settings in self._patterns.items() if settings in (*old, new))]
        for listener in list(self._listeners):
            listener(list(dict.fromkeys(affected)), False)
        return new

    def reset(self) -> None:
        with self._lock:
            self._default, self._patterns, self._clients = S3Settings(), {}, {}
        for listener in list(self._listeners):
            listener([None], True)

    def snapshot(self) -> tuple[S3Settings, dict[str, S3Settings]]:
        """The default settings and every pattern's (credentials included: for :func:`restore` in
        another process, such as a Dask worker)."""
        with self._lock:
            return self._default, dict(self._patterns)

    def restore(self, snapshot: tuple[S3Settings, dict[str, S3Settings]]) -> None:
        """Take the settings another process's :meth:`snapshot` gave (its secrets are redacted here too)."""
        default, patterns = snapshot
        for settings in (default, *patterns.values()):
            _register_secrets(settings)
        with self._lock:
            self._default, self._patterns, self._clients = default, dict(patterns), {}
        for listener in list(self._listeners):
            listener([None], True)

    @property
    def default_settings(self) -> S3Settings:
        return self._default

    def pattern_for(self, bucket: str) -> str | None:
        """The most specific configured pattern matching ``bucket``, or None (the default)."""
        if bucket in self._patterns:
            return bucket
        matching = [p for p in self._patterns if fnmatch.fnmatchcase(bucket, p)]
        return max(matching, key=lambda p: (len(p), p), default=None)

    def client_for(self, bucket: str | None) -> S3Client:
        """The client for ``bucket`` (``None`` or ``''``: the default client)."""
        return self.client_of(self.pattern_for(bucket) if bucket else None)

    def client_of(self, pattern: str | None) -> S3Client:
        """The client of a configured pattern (None: the default client)."""
        with self._lock:
            settings = self._patterns[pattern] if pattern is not None else self._default
            key = (settings, pattern is not None)
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = S3Client(settings, self._tally,
                                                       settings.label if pattern is not None else "")
                self._every_client.append(client)
            return client

    def request_counts(self) -> Counter[str]:
        """Requests sent by every client this process had, by operation."""
        with self._counts_lock:
            return Counter(self.counts)

    def requests_by_endpoint(self) -> dict[str, dict[str, int]]:
        """Every client's requests (the default's and retired ones' too) by endpoint label, then by
        operation."""
        split: dict[str, Counter[str]] = {}
        with self._lock:
            clients = list(self._every_client)
        for client in clients:
            if client.counts:
                split.setdefault(client.label, Counter()).update(client.counts)
        return {label: dict(counts) for label, counts in split.items()}

    def exact_buckets(self) -> list[str]:
        """Bucket names configured exactly (no glob): listed next to the default client's buckets."""
        return sorted(p for p in self._patterns if not any(ch in p for ch in "*?["))


registry = ClientRegistry()


def configure_s3(
    endpoint_url: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    *,
    bucket: str | None = None,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_pool_connections: int | None = None,
    addressing_style: str | None = None,
    anonymous: bool | None = None,
    max_concurrency: int | None = None,
    small_file_concurrency: int | None = None,
    data_plane: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
) -> S3Settings:
    """Set how to reach S3, for every bucket or (``bucket=``) for some.

    Without ``bucket``, the default: unset arguments keep their current value, and without any call
    the standard boto3 environment applies (``AWS_PROFILE``, ``AWS_ENDPOINT_URL``, ``~/.aws/config``
    ...).  With ``bucket`` (an exact name or a glob such as ``"lake-*"``), settings for the buckets
    that match; a later call for the same pattern replaces the earlier one, and the most specific
    pattern wins (an exact name over a glob, a longer glob over a shorter).  ``s3://bucket/key``
    stays as it is: the bucket chooses the client.  Each distinct setting gets its own client,
    connection pool, credential chain and cache; reconfiguring a pattern clears only its cache.
    Retries use botocore's ``standard`` mode with 5 attempts (exponential back-off); on throttling
    (503 SlowDown) each client also halves the requests it keeps in flight and grows them back by
    about one per round trip (:class:`~tfm_jupyter.s3.throttle.ConcurrencyWindow`);
    ``retry_mode='adaptive'`` adds botocore's client-side rate limit on top.  Transfers keep
    ``max_concurrency`` (10) requests in flight when files are big enough for multipart (their
    parts are parallel) and ``small_file_concurrency`` (32) for many small files, where the
    network's latency, not bandwidth, decides.  ``data_plane`` chooses who sends the GETs, PUTs and
    copies of files below 8 MiB in bulk transfers: ``"obstore"`` (Rust's ``object_store``: its CPU per
    request is a fraction of boto3's, and it runs off the interpreter lock, on every core), ``"boto3"``
    (s3transfer), or ``"auto"`` (obstore where it is installed).
    """
    changes: dict[str, Any] = {
        name: value
        for name, value in zip(_SETTING_NAMES, (endpoint_url, profile, region, retry_mode, max_attempts,
                                                connect_timeout, read_timeout, max_pool_connections,
                                                addressing_style, anonymous, max_concurrency,
                                                small_file_concurrency, data_plane), strict=True)
        if value is not None
    }
    if endpoint_url:  # a password in the URL itself is a secret like any other
        from urllib.parse import urlsplit

        for part in (urlsplit(endpoint_url).password, urlsplit(endpoint_url).username):
            errors.register_secret(part)
    if aws_access_key_id or aws_secret_access_key or aws_session_token:
        changes["credentials"] = (aws_access_key_id, aws_secret_access_key, aws_session_token)
        for secret in changes["credentials"]:
            errors.register_secret(secret)
    if changes.get("data_plane", "auto") not in ("auto", "obstore", "boto3"):
        raise ValueError("data_plane must be 'auto', 'obstore' or 'boto3'")
    if changes.get("retry_mode", "standard") not in ("standard", "adaptive", "legacy"):
        raise ValueError("retry_mode must be 'standard', 'adaptive' or 'legacy'")
    for name in ("max_concurrency", "small_file_concurrency", "max_pool_connections"):
        if name in changes and not (isinstance(changes[name], int) and 1 <= changes[name] <= 1024):
            raise ValueError(f"{name} must be a whole number from 1 to 1024")
    if bucket is not None and not bucket:
        raise ValueError("bucket= needs a bucket name or a glob such as 'lake-*'")
    return registry.configure(bucket, changes)


def _register_secrets(settings: S3Settings) -> None:
    from urllib.parse import urlsplit

    if settings.endpoint_url:
        for part in (urlsplit(settings.endpoint_url).password, urlsplit(settings.endpoint_url).username):
            errors.register_secret(part)
    for secret in settings.credentials:
        errors.register_secret(secret)


def reset_s3_configuration() -> None:
    """Forget every :func:`configure_s3` setting (back to the boto3 environment)."""
    registry.reset()


def client_for(bucket: str | None) -> S3Client:
    """The client that serves ``bucket``."""
    return registry.client_for(bucket)


def get_client() -> Any:
    """The default botocore S3 client (thread-safe), created on first use."""
    return registry.client_for(None).boto


def request_counts() -> Counter[str]:
    """HTTP requests sent to S3 by this process, by API operation (retries included), every client."""
    return registry.request_counts()


def requests_by_endpoint() -> dict[str, dict[str, int]]:
    """Requests by the endpoint (and profile) that received them, then by operation."""
    return registry.requests_by_endpoint()


_LOADER: list[Any] = []  # botocore's data loader, shared by every client this process builds
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> Any:
    """A fresh botocore session (its own profile and credentials) sharing one data loader, so a
    new client does not read and parse the S3 service model from disk again (~60 ms each)."""
    import botocore.session

    session = botocore.session.Session()
    with _LOADER_LOCK:
        if not _LOADER:
            _LOADER.append(session.get_component("data_loader"))
    session.register_component("data_loader", _LOADER[0])
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    return session


def fast_timestamp(value: Any) -> Any:
    """botocore's timestamp parser, fast for the forms S3 sends: ISO 8601 in listings
    (``2026-12-03T08:00:00.000Z``) and HTTP dates in headers.  botocore's own (dateutil) costs about
    0.15 ms a key, which on a 1,000-key page is more than the request."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        try:
            if value.endswith("Z") and "T" in value:
                return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
            if value.endswith(" GMT"):
                return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
        except ValueError:
            pass
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


def _remember_credentials(session: Any) -> None:
    try:
        credentials = session.get_credentials()
    except Exception:  # resolving credentials may fail; the request will then say why
        return
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        for secret in (frozen.access_key, frozen.secret_key, frozen.token):
            errors.register_secret(secret)


class _RedactingFilter(logging.Filter):
    """Removes credentials and signatures from records of boto3/botocore/s3transfer/urllib3 loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = errors.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACTING_FILTER = _RedactingFilter()
_LIBRARY_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")


def redact_library_logs() -> None:
    # A filter on a logger only sees records logged on that very logger, so it goes on each of them
    # (botocore logs signed headers and canonical requests at DEBUG level).
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".")[0] in _LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACTING_FILTER not in logger.filters:
                logger.addFilter(_REDACTING_FILTER)



# -- metering and logging (botocore event handlers) -------------------------------------------


def _throttled(response: Any) -> bool:
    """Whether an attempt's answer (botocore's ``(http response, parsed)``) says "slow down"."""
    if not response:
        return False
    http, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    return code in THROTTLING_CODES or getattr(http, "status_code", 0) in (429, 503)


def _note_target(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["tfm_location"] = location_of(params)


def _note_start(request: Any, **_: Any) -> None:
    context = getattr(request, "context", None)
    if context is not None:
        context["tfm_started"] = time.perf_counter()
