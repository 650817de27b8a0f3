"""The only module that talks to boto3.

It owns the client (created lazily, once, under a lock), its retry/timeout configuration,
pagination, streaming bodies, managed transfers and the mapping of every botocore error to
:mod:`tfm_jupyter.errors`.  Every HTTP attempt is counted by operation and logged on the
``tfm_jupyter.s3`` logger, one line each, without headers (so without credentials).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import IO, Any

from .. import errors

__all__ = [
    "S3Settings",
    "call",
    "configure_s3",
    "current_settings",
    "get_client",
    "paginate",
    "request_counts",
]

log = logging.getLogger("tfm_jupyter.s3")

CREDENTIALS_HELP = (
    "No AWS credentials were found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or AWS_PROFILE (after `aws configure` / `aws sso login`), or call "
    "tfm_jupyter.configure_s3(profile='...'); for public buckets use configure_s3(anonymous=True)."
)


@dataclass(frozen=True)
class S3Settings:
    """How the S3 client is built; change it with :func:`configure_s3`."""

    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 10
    read_timeout: float = 60
    max_pool_connections: int = 32
    addressing_style: str | None = None
    anonymous: bool = False
    credentials: tuple[str | None, str | None, str | None] = field(default=(None, None, None), repr=False)

    def __repr__(self) -> str:  # never show credentials, even by accident
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("endpoint_url", "profile", "region", "retry_mode", "max_attempts",
                         "connect_timeout", "read_timeout", "anonymous")
        )
        return f"S3Settings({shown})"


_lock = threading.Lock()
_settings = S3Settings()
_client: Any = None
_counts: Counter[str] = Counter()
_counts_lock = threading.Lock()
_on_configure: list[Callable[[], None]] = []


def configure_s3(
    endpoint_url: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    *,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_pool_connections: int | None = None,
    addressing_style: str | None = None,
    anonymous: bool | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
) -> S3Settings:
    """Set how to reach S3; unset arguments keep their current value.

    Without any call, the standard boto3 environment applies (``AWS_PROFILE``,
    ``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION``, ``~/.aws/config`` ...).  Retries use botocore's
    ``standard`` mode with 5 attempts; ``retry_mode='adaptive'`` adds client-side rate limiting.
    The client is rebuilt on next use and the cache is cleared (another endpoint or identity may
    see other objects).
    """
    global _settings, _client
    changes: dict[str, Any] = {
        name: value
        for name, value in dict(
            endpoint_url=endpoint_url, profile=profile, region=region, retry_mode=retry_mode,
            max_attempts=max_attempts, connect_timeout=connect_timeout, read_timeout=read_timeout,
            max_pool_connections=max_pool_connections, addressing_style=addressing_style,
            anonymous=anonymous,
        ).items()
        if value is not None
    }
    if aws_access_key_id or aws_secret_access_key or aws_session_token:
        changes["credentials"] = (aws_access_key_id, aws_secret_access_key, aws_session_token)
        for secret in changes["credentials"]:
            errors.register_secret(secret)
    if changes.get("retry_mode", "standard") not in ("standard", "adaptive", "legacy"):
        raise ValueError("retry_mode must be 'standard', 'adaptive' or 'legacy'")
    with _lock:
        _settings = replace(_settings, **changes)
        _client = None
    for callback in list(_on_configure):
        callback()
    return _settings


def reset_s3_configuration() -> None:
    """Forget every :func:`configure_s3` setting (back to the boto3 environment)."""
    global _settings, _client
    with _lock:
        _settings, _client = S3Settings(), None
    for callback in list(_on_configure):
        callback()


def on_configure(callback: Callable[[], None]) -> None:
    """Run ``callback`` whenever the configuration changes (the store clears its cache)."""
    _on_configure.append(callback)


def current_settings() -> S3Settings:
    """The settings the next client will be built with."""
    return _settings


def get_client() -> Any:
    """The shared botocore S3 client (thread-safe), created on first use."""
    global _client
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            _client = _create_client(_settings)
        return _client


def _create_client(settings: S3Settings) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    key_id, secret, token = settings.credentials
    try:
        session = boto3.session.Session(
            profile_name=settings.profile, region_name=settings.region,
            aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        )
    except BotoCoreError as exc:
        raise _translate(exc, "configure", None) from None
    config = Config(
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_pool_connections=settings.max_pool_connections,
        s3={"addressing_style": settings.addressing_style} if settings.addressing_style else None,
        signature_version=UNSIGNED if settings.anonymous else "s3v4",
        user_agent_extra="tfm_jupyter",
    )
    try:
        client = session.client("s3", endpoint_url=settings.endpoint_url, config=config)
    except BotoCoreError as exc:
        raise _translate(exc, "configure", None) from None
    _remember_credentials(session)
    _redact_library_logs()
    events = client.meta.events
    events.register("before-parameter-build.s3", _note_target)
    events.register("request-created.s3", _note_start)
    events.register("response-received.s3", _count_and_log)
    return client


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


def _redact_library_logs() -> None:
    # A filter on a logger only sees records logged on that very logger, so it goes on each of them
    # (botocore logs signed headers and canonical requests at DEBUG level).
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".")[0] in _LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACTING_FILTER not in logger.filters:
                logger.addFilter(_REDACTING_FILTER)


# -- metering and logging (botocore event handlers) -------------------------------------------


def _location(params: dict[str, Any] | None) -> str | None:
    if not params or "Bucket" not in params:
        return None
    key = params.get("Key", params.get("Prefix", ""))
    return f"s3://{params['Bucket']}/{key}"


def _note_target(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["tfm_location"] = _location(params)


def _note_start(request: Any, **_: Any) -> None:
    context = getattr(request, "context", None)
    if context is not None:
        context["tfm_started"] = time.perf_counter()


def _count_and_log(event_name: str, context: dict[str, Any], exception: Any = None,
                   response_dict: dict[str, Any] | None = None, **_: Any) -> None:
    operation = event_name.rsplit(".", 1)[-1]
    with _counts_lock:
        _counts[operation] += 1
    if not log.isEnabledFor(logging.DEBUG):
        return
    started = context.get("tfm_started")
    elapsed = f"{(time.perf_counter() - started) * 1000:.1f} ms" if started else "?"
    outcome = response_dict["status_code"] if response_dict else type(exception).__name__
    attempt = context.get("retries", {}).get("attempt", 1)
    log.debug("S3 %s %s -> %s in %s (attempt %s)", operation, context.get("tfm_location") or "",
              outcome, elapsed, attempt)


def request_counts() -> Counter[str]:
    """HTTP requests sent to S3 by this process, by API operation (retries included)."""
    with _counts_lock:
        return Counter(_counts)


# -- calls -----------------------------------------------------------------------------------------


def api_name(operation: str) -> str:
    """``'list_objects_v2'`` -> ``'ListObjectsV2'`` (as S3 and its error messages name it)."""
    if _client is not None:
        mapped = _client.meta.method_to_api_mapping.get(operation)
        if mapped:
            return mapped
    special = {"list_objects_v2": "ListObjectsV2"}
    return special.get(operation) or "".join(word.capitalize() for word in operation.split("_"))


@contextlib.contextmanager
def mapped_errors(operation: str, params: dict[str, Any] | None = None) -> Iterator[None]:
    """Turn any botocore exception raised inside the block into an :class:`errors.S3Error`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise _translate(exc, operation, params) from None


def call(operation: str, **params: Any) -> dict[str, Any]:
    """Run one S3 API operation (boto3 method name) and return its response."""
    client = get_client()
    with mapped_errors(operation, params):
        return getattr(client, operation)(**params)


def operation_takes(operation: str, parameter: str) -> bool:
    """Whether the API operation's input has ``parameter`` (from botocore's service model)."""
    model = get_client().meta.service_model.operation_model(api_name(operation))
    return parameter in model.input_shape.members if model.input_shape else False


def paginate(operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Yield the pages of a paginated operation (e.g. ``list_objects_v2``), one request each."""
    paginator = get_client().get_paginator(operation)
    with mapped_errors(operation, params):
        yield from paginator.paginate(**params)


def get_stream(**params: Any) -> tuple[dict[str, Any], ResponseStream]:
    """GetObject, returning the response metadata and a body whose errors are mapped too."""
    response = call("get_object", **params)
    return response, ResponseStream(response.pop("Body"), params)


class ResponseStream:
    """A GetObject body: ``read(n)`` maps network failures and short bodies to ``OSError``."""

    def __init__(self, body: Any, params: dict[str, Any]):
        self._body = body
        self._params = params

    def read(self, amount: int | None = None) -> bytes:
        with mapped_errors("get_object", self._params):
            return self._body.read(amount)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection must not raise
            self._body.close()


def presign(operation: str, params: dict[str, Any], expires: int) -> str:
    """A presigned URL for ``operation`` (no request is sent)."""
    with mapped_errors(operation, params):
        return get_client().generate_presigned_url(operation, Params=params, ExpiresIn=expires)


# -- managed transfers (boto3's s3transfer: multipart, parallel parts, progress callbacks) ---------

MULTIPART_THRESHOLD = 8 * 2**20
COPY_THRESHOLD = 5 * 2**30  # CopyObject handles up to 5 GiB in one request


TARGET_PARTS = 10  # one part per transfer thread
MAX_PART = 512 * 2**20  # a failed part is retried whole: keep that bounded


def part_size(size: int) -> int:
    """Multipart part size for a file: 8 MiB, or more for big files so one takes about 10 parts.

    Each part is one request (UploadPart, or a ranged GET on download); with one part per thread
    a big file costs ~10x fewer requests than with 8 MiB parts and still keeps every thread busy.
    """
    per_part = -(-size // TARGET_PARTS)
    return min(MAX_PART, max(MULTIPART_THRESHOLD, -(-per_part // 2**20) * 2**20))


def _transfer_config(threshold: int, chunk: int, concurrency: int) -> Any:
    """boto3's TransferConfig, always the classic (Python) transfer client, whose behaviour we test."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=threshold, multipart_chunksize=chunk, max_concurrency=concurrency,
                          preferred_transfer_client="classic")


class _Subscriber:
    """s3transfer subscriber: provides the known size and ETag (so no HeadObject) and forwards progress."""

    def __init__(self, size: int | None, on_progress: Callable[[int], None] | None, etag: str | None = None):
        self._size, self._on_progress, self._etag = size, on_progress, etag

    def on_queued(self, future: Any, **_: Any) -> None:
        if self._size is not None:
            future.meta.provide_transfer_size(self._size)
        if self._etag is not None:
            future.meta.provide_object_etag(self._etag)

    def on_progress(self, future: Any, bytes_transferred: int, **_: Any) -> None:
        if self._on_progress is not None:
            self._on_progress(bytes_transferred)

    def on_done(self, future: Any, **_: Any) -> None:
        pass


class TransferBatch:
    """Many managed transfers sharing s3transfer managers, so concurrency is bounded overall.

    Uploads and downloads go multipart above 8 MiB with parallel parts; copies are server-side
    (one CopyObject up to 5 GiB, UploadPartCopy above).  Failed multipart uploads are aborted
    and failed downloads leave no file (s3transfer writes to a temporary name, then renames).
    """

    def __init__(self, concurrency: int = 10, multipart_threshold: int = MULTIPART_THRESHOLD, largest: int = 0):
        self._concurrency = concurrency
        self._threshold = multipart_threshold
        self._chunk = part_size(largest)
        self._managers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _manager(self, kind: str) -> Any:
        from boto3.s3.transfer import create_transfer_manager

        with self._lock:
            if kind not in self._managers:
                threshold = COPY_THRESHOLD if kind == "copy" else self._threshold
                chunk = 256 * 2**20 if kind == "copy" else self._chunk
                config = _transfer_config(threshold, chunk, self._concurrency)
                self._managers[kind] = create_transfer_manager(get_client(), config)
                _redact_library_logs()  # s3transfer's loggers exist only now
            return self._managers[kind]

    def upload(self, filename: str, bucket: str, key: str, size: int, *, content_type: str | None = None,
               on_progress: Callable[[int], None] | None = None) -> Any:
        extra = {"ContentType": content_type} if content_type else None
        return self._manager("io").upload(filename, bucket, key, extra_args=extra,
                                          subscribers=[_Subscriber(size, on_progress)])

    def download(self, bucket: str, key: str, filename: str, size: int | None, *, etag: str | None = None,
                 on_progress: Callable[[int], None] | None = None) -> Any:
        subscriber = _Subscriber(size, on_progress, etag)
        return self._manager("io").download(bucket, key, filename, subscribers=[subscriber])

    def copy(self, source: tuple[str, str], bucket: str, key: str, size: int | None, *, etag: str | None = None,
             on_progress: Callable[[int], None] | None = None) -> Any:
        copy_source = {"Bucket": source[0], "Key": source[1]}
        subscriber = _Subscriber(size, on_progress, etag)
        return self._manager("copy").copy(copy_source, bucket, key, subscribers=[subscriber])

    @staticmethod
    def result(future: Any, operation: str, location: tuple[str, str]) -> None:
        """Wait for one transfer; S3 failures are raised as :mod:`errors` exceptions."""
        from s3transfer.exceptions import RetriesExceededError

        params = {"Bucket": location[0], "Key": location[1]}
        try:
            with mapped_errors(operation, params):
                future.result()
        except RetriesExceededError as exc:
            raise _translate(exc.last_exception or exc, operation, params) from None
        except (OSError, KeyboardInterrupt):
            raise
        except Exception as exc:  # s3transfer's own failures (cancellation, fatal errors)
            raise _translate(exc, operation, params) from None

    def close(self, cancel: bool = False) -> None:
        """Finish (or with ``cancel``, abort) every transfer still running.

        Cancelling goes through the manager's context-manager exit: ``TransferManager.shutdown(
        cancel=True)`` passes its arguments shifted (s3transfer 0.1x) and fails.
        """
        interrupt = KeyboardInterrupt("cancelled by the user")
        for manager in list(self._managers.values()):
            if cancel:
                manager.__exit__(KeyboardInterrupt, interrupt, None)
            else:
                manager.__exit__(None, None, None)

    def __enter__(self) -> TransferBatch:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.close(cancel=exc_type is not None)


def upload_fileobj(fileobj: IO[bytes], bucket: str, key: str, *, size: int = 0,
                   extra: dict[str, Any] | None = None, callback: Callable[[int], None] | None = None) -> None:
    """Upload a binary file object with boto3's managed transfer (aborts failed multipart uploads)."""
    params = {"Bucket": bucket, "Key": key}
    config = _transfer_config(MULTIPART_THRESHOLD, part_size(size), 10)
    with mapped_errors("put_object", params):
        get_client().upload_fileobj(fileobj, bucket, key, ExtraArgs=extra or None, Callback=callback,
                                    Config=config)


# -- error mapping --------------------------------------------------------------------------------

_NOT_FOUND = {"NoSuchKey", "404", "NotFound", "NoSuchUpload", "NoSuchVersion"}
_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "AccountProblem"}
_BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                    "TokenRefreshRequired", "ExpiredTokenException"}
_IAM_ACTIONS = {
    "HeadObject": "s3:GetObject", "GetObject": "s3:GetObject", "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket", "CopyObject": "s3:GetObject on the source and s3:PutObject",
    "DeleteObjects": "s3:DeleteObject", "ListBuckets": "s3:ListAllMyBuckets",
}
_TRANSIENT = {"SlowDown", "503", "ServiceUnavailable", "InternalError", "500", "RequestTimeout",
              "Throttling", "ThrottlingException", "RequestLimitExceeded"}


def _translate(exc: Exception, operation: str, params: dict[str, Any] | None) -> errors.S3Error:
    from botocore import exceptions as bce

    api = api_name(operation)
    location = _location(params)
    if isinstance(exc, bce.ClientError):
        return _translate_client_error(exc, api, location, params or {})
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError,
                        bce.CredentialRetrievalError, bce.ProfileNotFound, bce.TokenRetrievalError)):
        detail = f" ({exc})" if isinstance(exc, (bce.ProfileNotFound, bce.PartialCredentialsError)) else ""
        return errors.CredentialsMissing(CREDENTIALS_HELP + detail, location, api)
    if isinstance(exc, (bce.ConnectTimeoutError, bce.ReadTimeoutError)):
        return errors.S3Timeout(
            f"{api} timed out after {_settings.max_attempts} attempts; the endpoint is slow or unreachable "
            "(timeouts are set with configure_s3(connect_timeout=..., read_timeout=...))", location, api)
    if isinstance(exc, (bce.EndpointConnectionError, bce.ProxyConnectionError, bce.SSLError)):
        endpoint = _settings.endpoint_url or "the AWS endpoint"
        return errors.EndpointUnreachable(
            f"{api}: cannot connect to {endpoint}; check the network, AWS_ENDPOINT_URL or "
            "configure_s3(endpoint_url=...)", location, api)
    if isinstance(exc, (bce.IncompleteReadError, bce.ResponseStreamingError, bce.ConnectionClosedError,
                        bce.ChecksumError)):
        return errors.ServiceError(f"{api}: the response was cut short or corrupted ({type(exc).__name__}); "
                                   "nothing was written from it - try again", location, api)
    if isinstance(exc, bce.ParamValidationError):
        return errors.S3Error(f"{api}: invalid request: {exc}", location, api)
    return errors.S3Error(f"{api} failed: {type(exc).__name__}: {exc}", location, api)


def _translate_client_error(exc: Any, api: str, location: str | None, params: dict[str, Any]) -> errors.S3Error:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = error.get("Message") or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return errors.BucketNotFound(f"No such bucket ({api})", location or f"s3://{params.get('Bucket')}/", api)
    if code in _NOT_FOUND:
        return errors.NotFound(f"No such file or directory ({api})", location, api)
    if code in _BAD_CREDENTIALS:
        return errors.AccessDenied(
            f"{api}: S3 rejected the credentials ({code}); they are wrong or expired - refresh them "
            "(e.g. `aws sso login`) or call configure_s3(profile=...)", location, api)
    if code in _DENIED:
        return errors.AccessDenied(
            f"Access denied ({api}); check that these credentials' IAM and bucket policies allow "
            f"{_IAM_ACTIONS.get(api, 's3:' + api)} here", location, api)
    if code in ("PreconditionFailed", "412"):
        if "IfNoneMatch" in params:
            return errors.AlreadyExists(f"File exists ({api}); it was created by another writer", location, api)
        return errors.ObjectChanged(f"{api}: the object changed while it was being read; read it again",
                                    location, api)
    if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
        return errors.AlreadyExists(f"Bucket exists ({code})", location, api)
    if code == "BucketNotEmpty":
        return errors.DirectoryNotEmpty(f"Bucket not empty ({api}); delete its objects first", location, api)
    if code == "InvalidRange":
        return errors.S3Error(f"{api}: requested range is past the end of the object", location, api)
    if code in _TRANSIENT or (status or 0) >= 500:
        return errors.ServiceError(
            f"{api} kept failing with {code} after {_settings.max_attempts} attempts "
            "(S3 is throttling or unavailable); try again later or raise "
            "configure_s3(max_attempts=...)", location, api)
    return errors.S3Error(f"{api} failed: {code}: {message}", location, api)
