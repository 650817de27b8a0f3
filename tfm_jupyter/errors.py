"""The exception tree: every storage failure (S3, SFTP, FTP, Azure, GCS, local) is an :class:`OSError`
users already know how to catch.

:class:`StorageError` is the one base class of every backend (``S3Error`` is its older name and
the same class).  Each subclass also inherits the matching builtin, so ``except FileNotFoundError``
works for a missing key exactly as it does for a missing local file.  Messages say what to do next,
and never contain credentials: :func:`redact` scrubs every registered secret, the password of any
``user:password@host`` URL and signing material from any text we show or log.
"""

from __future__ import annotations

import errno
import re
import threading
from typing import Any

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BucketNotFound",
    "Cancelled",
    "CommandError",
    "CredentialsMissing",
    "DirectoryNotEmpty",
    "EndpointUnreachable",
    "IsADirectory",
    "NotADirectory",
    "NotFound",
    "NotLocal",
    "ObjectChanged",
    "OverlapError",
    "S3Error",
    "S3Timeout",
    "SameFileError",
    "ServiceError",
    "StorageError",
    "TransferError",
    "UnsafeName",
    "UnsupportedOperation",
    "builtin_name",
    "redact",
    "register_secret",
    "strip_userinfo",
]


class StorageError(OSError):
    """Base class of every error a storage backend raises (S3, SFTP, FTP, Azure, GCS, local, memory).

    ``filename`` holds the location (``s3://bucket/key``, ``sftp://host/path`` …) and ``operation``
    what was being done (an API name such as ``GetObject``, or ``open``, ``rename`` …).
    """

    default_errno = errno.EIO

    def __init__(self, message: str, location: str | None = None, operation: str | None = None):
        message = redact(message)
        if location is None:
            super().__init__(self.default_errno, message)
        else:
            super().__init__(self.default_errno, message, location)
        self.operation = operation


S3Error = StorageError  # the name of the base class before there were other backends


class NotFound(S3Error, FileNotFoundError):
    """The key, prefix or bucket does not exist."""

    default_errno = errno.ENOENT


class BucketNotFound(NotFound):
    """The bucket itself does not exist (or is not visible to these credentials)."""


class AccessDenied(S3Error, PermissionError):
    """S3 refused the request for these credentials."""

    default_errno = errno.EACCES


class CredentialsMissing(S3Error):
    """No AWS credentials could be found; the message lists the ways to provide them."""

    default_errno = errno.EACCES


class AlreadyExists(S3Error, FileExistsError):
    """The target exists and the operation was asked not to replace it."""

    default_errno = errno.EEXIST


class NotADirectory(S3Error, NotADirectoryError):
    """A directory operation was applied to an object."""

    default_errno = errno.ENOTDIR


class IsADirectory(S3Error, IsADirectoryError):
    """A file operation was applied to a prefix (an S3 "directory")."""

    default_errno = errno.EISDIR


class DirectoryNotEmpty(S3Error):
    """``rmdir`` of a prefix that still holds keys."""

    default_errno = errno.ENOTEMPTY


class ObjectChanged(S3Error):
    """The object was replaced by another writer while it was being read."""

    default_errno = errno.ESTALE


class NotLocal(S3Error, PermissionError):
    """An S3 location was given to a local file operation (``open(p, 'w')``, ``os.makedirs(p)``)."""

    default_errno = errno.EACCES


class EndpointUnreachable(S3Error, ConnectionError):
    """The S3 endpoint could not be reached (DNS, refused connection, proxy)."""

    default_errno = errno.ECONNREFUSED


class S3Timeout(S3Error, TimeoutError):
    """Connecting to or reading from S3 took longer than the configured timeout."""

    default_errno = errno.ETIMEDOUT


class ServiceError(S3Error):
    """S3 kept failing (5xx, throttling, broken responses) after every retry."""


class TransferError(S3Error):
    """Some files of a multi-file copy or move failed; ``failures`` maps each source to its error.

    Sources of failed files are always left in place.
    """

    def __init__(self, message: str, failures: dict[str, BaseException], location: str | None = None):
        super().__init__(message, location)
        self.failures = failures


class SyncError(TransferError):
    """A sync in which some copies (or deletions) failed; when a copy failed nothing was deleted.
    ``report`` is its SyncReport."""

    def __init__(self, message: str, report: Any):
        super().__init__(message, {item.path: OSError(item.error) for item in report.failed}, report.source)
        self.report = report


class SameFileError(OSError):
    """A copy or move whose target is its own source, or lies inside it."""

    def __init__(self, message: str):
        super().__init__(errno.EINVAL, redact(message))


class OverlapError(SameFileError):
    """A copy, move or sync whose source and target overlap so that data could be lost (a target file
    that lies inside the source); refused before the first byte moves."""


class UnsafeName(S3Error, PermissionError):
    """A name from storage that cannot become a file name below a target folder without leaving it
    (``..``, ``.``, empty, absolute, with a NUL or a separator, or through a symlink that leads out)."""

    default_errno = errno.EACCES


class Cancelled(Exception):
    """A transfer or search was cancelled from another thread (e.g. the browser's Cancel button).

    Like KeyboardInterrupt, cancelling aborts in-flight uploads and leaves no partial files.  A
    cancelled transfer says how far it got: ``arrived`` files were confirmed, ``in_flight`` were on
    their way (each may or may not have landed, whole), of ``total`` planned so far.
    """

    def __init__(self, message: str = "cancelled", *, arrived: int = 0, in_flight: int = 0, total: int = 0):
        super().__init__(message)
        self.arrived, self.in_flight, self.total = arrived, in_flight, total


class CommandError(ValueError):
    """A mistake in how a command was called (shown as a one-line usage error)."""


class UnsupportedOperation(NotImplementedError):
    """The operation has no meaning on S3 (symlinks, hard links, ownership)."""


# -- secret redaction ---------------------------------------------------------------------------

_secrets_lock = threading.Lock()
_secrets: set[str] = set()
# An access key id in any text, and anything after a "Credential=" in a signed header.
_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b"),
    re.compile(r"(Credential=)[^,\s/]+"),
    re.compile(r"(Signature=)[0-9a-fA-F]+"),
    # botocore's DEBUG lines "Signature:\n<hex>" and the canonical request's token header
    re.compile(r"(Signature:\s*)[0-9a-fA-F]{16,}"),
    re.compile(r"(x-amz-security-token:\s*)\S+", re.I),
    re.compile(r"((?:X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential)=)[^&\s'\"]+", re.I),
    re.compile(r"([?&](?:sig|skoid|sktid|sks|skv)=)[^&\s'\"]+"),  # Azure SAS signatures and key ids
    re.compile(r"(\b(?:AccountKey|SharedAccessSignature|Password|pwd)=)[^;&\s'\"]+", re.I),
    # the password of any URL's user-info: scheme://user:password@host
    re.compile(r"([a-z][a-z0-9+.-]*://[^/:@\s'\"]*):[^/@\s'\"]*@", re.I),
)
_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@", re.I)
REDACTED = "[redacted]"


def builtin_name(exc: BaseException) -> str:
    """``FileNotFoundError`` rather than our ``BucketNotFound``: the name users know to catch."""
    return next(cls.__name__ for cls in type(exc).__mro__ if cls.__module__ == "builtins")


def register_secret(value: str | None) -> None:
    """Remember a credential value so :func:`redact` removes it from any text."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every known credential and signature replaced by ``[redacted]``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_replacement, text)
    return text


def _replacement(match: re.Match[str]) -> str:
    if match.re is _PATTERNS[-1]:  # user-info: keep the user, drop the password
        return match.group(1) + ":" + REDACTED + "@"
    return (match.group(1) if match.groups() else "") + REDACTED


def strip_userinfo(url: str) -> str:
    """``scheme://user:password@host/…`` -> ``scheme://host/…``: how endpoints are named in labels,
    messages, statistics and logs."""
    return _USERINFO.sub(lambda m: m.group(1), url)
