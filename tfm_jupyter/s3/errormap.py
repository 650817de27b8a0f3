"""Every botocore and s3transfer failure as one of :mod:`tfm_jupyter.errors`, with a message that says
what to do.  Pure functions: the client module calls them with its settings."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from .. import errors

__all__ = ["CREDENTIALS_HELP", "api_name", "bucket_hint", "location_of", "translate"]

CREDENTIALS_HELP = (
    "No AWS credentials were found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or AWS_PROFILE (after `aws configure` / `aws sso login`), or call "
    "tfm_jupyter.configure_s3(profile='...') (for some buckets only: configure_s3(bucket='name', ...)); "
    "for public buckets use configure_s3(anonymous=True)."
)
_SPECIAL_NAMES = {"list_objects_v2": "ListObjectsV2"}


def api_name(operation: str) -> str:
    """``'list_objects_v2'`` -> ``'ListObjectsV2'`` (as S3 and its error messages name it)."""
    return _SPECIAL_NAMES.get(operation) or "".join(word.capitalize() for word in operation.split("_"))


def bucket_hint(missing: str, bucket_names: Callable[[], list[str]], scheme: str = "s3") -> str:
    """What to say after "No such bucket": the near names (did you mean), else the few there are, else
    how to list them.  ``bucket_names`` may fail (no permission to list): then only how to list."""
    how = f"%s3ls {scheme}:// (or Path('{scheme}://').iterdir()) lists the buckets these credentials see"
    try:
        names = bucket_names()
    except Exception:  # a hint must never hide the error it explains
        return how
    near = difflib.get_close_matches(missing, names, n=3, cutoff=0.6)
    if near:
        return "did you mean " + " or ".join(repr(f"{scheme}://{name}/") for name in near) + "?"
    if not names:
        return f"these credentials see no bucket at all; create it with Path('{scheme}://{missing}/').mkdir()"
    if len(names) <= 8:
        return "these credentials see " + ", ".join(f"{scheme}://{name}/" for name in names)
    return how


def location_of(params: dict[str, Any] | None) -> str | None:
    """``s3://bucket/key`` (or the prefix) a request's parameters name."""
    if not params or "Bucket" not in params:
        return None
    key = params.get("Key", params.get("Prefix", ""))
    return f"s3://{params['Bucket']}/{key}"


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


def translate(exc: Exception, operation: str, params: dict[str, Any] | None, settings: Any,
              via: str = "") -> errors.S3Error:
    """Our exception for any botocore/s3transfer failure of ``operation``.

    ``settings`` gives the attempts and endpoint the message names; ``via`` (for clients chosen
    by a bucket pattern) says which endpoint and profile answered, never which credentials.
    """
    found = _translate(exc, operation, params, settings)
    if via:
        return type(found)(f"{found.strerror} [via {via}]", found.filename, found.operation)
    return found


def _translate(exc: Exception, operation: str, params: dict[str, Any] | None, settings: Any) -> errors.S3Error:
    from botocore import exceptions as bce

    api = api_name(operation)
    location = location_of(params)
    if isinstance(exc, bce.ClientError):
        return _translate_client_error(exc, api, location, params or {}, settings)
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError,
                        bce.CredentialRetrievalError, bce.ProfileNotFound, bce.TokenRetrievalError)):
        detail = f" ({exc})" if isinstance(exc, (bce.ProfileNotFound, bce.PartialCredentialsError)) else ""
        return errors.CredentialsMissing(CREDENTIALS_HELP + detail, location, api)
    if isinstance(exc, (bce.ConnectTimeoutError, bce.ReadTimeoutError)):
        return errors.S3Timeout(
            f"{api} timed out after {settings.max_attempts} attempts; the endpoint is slow or unreachable "
            "(timeouts are set with configure_s3(connect_timeout=..., read_timeout=...))", location, api)
    if isinstance(exc, (bce.EndpointConnectionError, bce.ProxyConnectionError, bce.SSLError)):
        endpoint = settings.shown_endpoint or "the AWS endpoint"
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


def _translate_client_error(exc: Any, api: str, location: str | None, params: dict[str, Any],
                            settings: Any) -> errors.S3Error:
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
            f"{api} kept failing with {code} after {settings.max_attempts} attempts "
            "(S3 is throttling or unavailable); try again later or raise "
            "configure_s3(max_attempts=...)", location, api)
    return errors.S3Error(f"{api} failed: {code}: {message}", location, api)
