"""Pure S3 location logic: parse, validate and manipulate ``s3://bucket/key`` paths without any I/O.

An S3 key is a literal string, not a POSIX path.  ``PureS3Path`` therefore keeps every component
exactly as written: ``a//b``, ``./x`` and ``..`` name different objects than ``a/b``, ``x`` and the
parent, because S3 stores them as different keys.  The only normalisation is that one trailing
``/`` is dropped (``s3://b/dir/`` and ``s3://b/dir`` are equal), which is what makes
``PureS3Path(str(p)) == p`` hold for every key S3 can store.

A path whose last component is empty (``s3://b/dir//``) addresses the object whose key ends in
``/`` - the content of a directory marker, should anyone have stored bytes in one.
"""

from __future__ import annotations

import fnmatch
import functools
import mimetypes
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any

from .config import take_password

__all__ = [
    "MAX_KEY_BYTES",
    "PureS3Path",
    "PureURIPath",
    "guess_content_type",
    "is_s3_uri",
    "match_parts",
    "one_slash_uri",
    "split_s3_uri",
    "validate_bucket",
]

SCHEME = "s3://"
MAX_KEY_BYTES = 1024
# S3's rules for new buckets are stricter (lowercase, 3-63); legacy us-east-1 buckets may use
# capitals and underscores, and users must still be able to reach them.
_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


HADOOP_SCHEME = "s3a://"  # Hadoop's name for S3, and what os.fspath() of an S3 path gives


STORAGE_SCHEMES = ("s3", "s3a", "gs", "az", "abfs", "abfss", "sftp", "ftp", "ftps", "memory")
_ONE_SLASH_RE = re.compile(rf"^({'|'.join(STORAGE_SCHEMES)}):/(?!/)", re.IGNORECASE)


def one_slash_uri(value: object) -> str | None:
    """``'s3://b/k'`` for ``'s3:/b/k'`` (one slash: a typo, or pathlib's spelling of a URI), ``None``
    for anything else.  ``s3a:`` and ``abfs:`` come back under their usual names."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str) or not (match := _ONE_SLASH_RE.match(value)):
        return None
    scheme = {"s3a": "s3", "abfs": "az", "abfss": "az"}.get(match.group(1).lower(), match.group(1).lower())
    return f"{scheme}://{value[match.end():]}"


def is_s3_uri(value: object) -> bool:
    """True for strings that start with ``s3://`` or ``s3a://`` (any case)."""
    return isinstance(value, str) and (value[:5].lower() == SCHEME or value[:6].lower() == HADOOP_SCHEME)


def validate_bucket(bucket: str) -> str:
    """Return ``bucket`` if it is a usable bucket name, else raise ``ValueError`` saying why."""
    if not _BUCKET_RE.match(bucket) or ".." in bucket or _IP_RE.match(bucket):
        raise ValueError(
            f"invalid S3 bucket name {bucket!r}: use 3-63 characters of letters, digits, '.', '-', "
            "starting and ending with a letter or digit"
        )
    return bucket


def validate_key(key: str) -> str:
    """Return ``key`` if S3 can store it (UTF-8, at most 1024 bytes), else raise ``ValueError``."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"S3 key {key!r} is not valid UTF-8 (it contains lone surrogates)") from None
    if size > MAX_KEY_BYTES:
        raise ValueError(f"S3 key is {size} bytes long; S3 allows at most {MAX_KEY_BYTES} bytes")
    return key


def guess_content_type(key: str) -> str:
    """The Content-Type an object gets from its name when the writer does not say."""
    return mimetypes.guess_type(key, strict=False)[0] or "application/octet-stream"


def split_s3_uri(uri: str) -> tuple[str, tuple[str, ...]]:
    """Split ``s3://bucket/key`` into ``(bucket, key_parts)``, validating both.

    ``s3://`` alone is the root of all buckets: ``('', ())``.
    """
    if not is_s3_uri(uri):
        raise ValueError(f"not an S3 URI (expected 's3://bucket/key'): {uri!r}")
    rest = uri[len(SCHEME) if uri[:5].lower() == SCHEME else len(HADOOP_SCHEME):]
    bucket, _, key = rest.partition("/")
    if not bucket:
        if key:
            raise ValueError(f"S3 URI {uri!r} has no bucket name")
        return "", ()
    validate_bucket(bucket)
    return bucket, key_to_parts(key)


def key_to_parts(key: str) -> tuple[str, ...]:
    """Split a key into components, dropping one trailing ``/`` (the directory spelling)."""
    if not key:
        return ()
    if key.endswith("/"):
        key = key[:-1]
    validate_key(key)
    return tuple(key.split("/"))


def parts_to_key(parts: Sequence[str]) -> str:
    """Inverse of :func:`key_to_parts` for the object key (no trailing slash added)."""
    return "/".join(parts)


@functools.total_ordering
class PureURIPath:
    """A ``scheme://authority/key`` location with pathlib's pure API and no I/O: the pure layer of
    every storage backend (see :mod:`tfm_jupyter.backends`).

    ``authority`` (an S3 bucket, an Azure container, an SFTP host) is ``''`` for ``scheme://``, the
    list of them, and ``key`` the ``/``-separated name inside it (``''`` for its root).  Components are
    kept exactly as written, as object stores keep keys.  Subclasses set ``scheme`` and may validate.
    """

    scheme = ""

    __slots__ = ("__weakref__", "_bucket", "_hash", "_parts")
    _bucket: str
    _parts: tuple[str, ...]

    def __init__(self, *args: Any) -> None:
        if not args:
            raise TypeError(f"a path needs at least one argument, e.g. '{self.scheme}://bucket/key'")
        first, *rest = args
        first = first if isinstance(first, str) else str(_as_segment(first))
        self._bucket, self._parts = self._split(first)
        if rest:
            self._bucket, self._parts = self._joined(rest)

    # -- what a scheme may refine ----------------------------------------------------------------

    @classmethod
    def owns(cls, text: object) -> bool:
        """Whether ``text`` is a URI of this class's scheme."""
        prefix = cls.scheme + "://"
        return isinstance(text, str) and text[:len(prefix)].lower() == prefix

    @classmethod
    def _split(cls, uri: str) -> tuple[str, tuple[str, ...]]:
        if not cls.owns(uri):
            raise ValueError(f"not a {cls.scheme}:// URI (expected '{cls.scheme}://bucket/key'): {uri!r}")
        authority, _, key = uri[len(cls.scheme) + 3:].partition("/")
        if not authority and key:
            raise ValueError(f"URI {uri!r} has no {cls.authority_noun}")
        if "@" in authority:  # user:password@host: the password is kept aside, never in the path
            authority = take_password(cls.scheme, authority)
        return (cls.check_authority(authority) if authority else ""), cls.key_parts(key)

    authority_noun = "bucket"

    @staticmethod
    def check_authority(authority: str) -> str:
        """``authority`` if it is valid, else ValueError saying why."""
        return authority

    @staticmethod
    def key_parts(key: str) -> tuple[str, ...]:
        """Split a key into components, dropping one trailing ``/`` (the directory spelling)."""
        return tuple(key.removesuffix("/").split("/")) if key else ()

    def _check_key(self, parts: tuple[str, ...]) -> None:
        """Raise ValueError if ``parts`` cannot be a key of this scheme."""

    # -- construction helpers ------------------------------------------------------------------

    @classmethod
    def _from_parsed(cls, bucket: str, parts: tuple[str, ...]) -> Any:
        path = object.__new__(cls)
        path._bucket = bucket
        path._parts = parts
        return path

    @classmethod
    def from_key(cls, bucket: str, key: str) -> Any:
        """The path of ``key`` in ``bucket`` taken verbatim: every ``/``-separated component stays as it is
        (``..``, ``.`` and empty ones included), as S3 listed it."""
        return cls._from_parsed(bucket, tuple(key.split("/")) if key else ())

    def child(self, *names: str) -> Any:
        """This path joined with already-split components, verbatim (no parsing, unlike ``/``)."""
        if not self._bucket and names:
            return type(self)._from_parsed(names[0], tuple(names[1:]))
        return type(self)._from_parsed(self._bucket, (*self._parts, *names))

    def _make(self, bucket: str, parts: tuple[str, ...]) -> Any:
        """Derive a path of the same class (pathlib's ``with_segments`` for parsed parts)."""
        if bucket:
            self._check_key(parts)
        elif parts:
            raise ValueError(f"the root ('{self.scheme}://') has no keys; name a {self.authority_noun} first")
        return type(self)._from_parsed(bucket, parts)

    def _joined(self, segments: Iterable[Any]) -> tuple[str, tuple[str, ...]]:
        bucket, parts = self._bucket, self._parts
        for segment in segments:
            text = _as_segment(segment)
            if self.owns(text):
                bucket, parts = self._split(text)
                continue
            if not text:
                continue
            if text.startswith("/"):  # anchored, like an absolute component in pathlib
                text, parts = text[1:], ()
            new = self.key_parts(text)
            if not bucket:  # joining onto 's3://': the first component names the bucket
                if not new:
                    continue
                bucket, new = self.check_authority(new[0]), new[1:]
            parts = parts + new
        if bucket:
            self._check_key(parts)
        return bucket, parts

    def with_segments(self, *segments: Any) -> Any:
        """Build a new path of this class from ``segments`` (pathlib 3.12 hook)."""
        return type(self)(*segments)

    # -- the basics ------------------------------------------------------------------------------

    @property
    def authority(self) -> str:
        """The bucket (container, host) name: ``''`` for ``scheme://``."""
        return self._bucket

    bucket = authority

    @property
    def _prefix(self) -> str:
        return self.scheme + "://"

    @property
    def key(self) -> str:
        """The object key without a trailing slash (``''`` for the bucket root)."""
        return parts_to_key(self._parts)

    @property
    def dir_prefix(self) -> str:
        """The key prefix of this path's children: ``key + '/'``, or ``''`` at the bucket root."""
        return self.key + "/" if self._parts else ""

    def __str__(self) -> str:
        if not self._bucket:
            return self._prefix
        text = f"{self._prefix}{self._bucket}/{parts_to_key(self._parts)}"
        # A trailing empty component must survive the trip through str(); see the module doc.
        return text + "/" if self._parts and self._parts[-1] == "" else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return type(self), (str(self),)

    def as_uri(self) -> str:
        """The URI (keys are not percent-encoded: S3 tools take them verbatim)."""
        return str(self)

    def as_posix(self) -> str:
        """Same as ``str(self)``."""
        return str(self)

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            self._hash = hash((self.scheme, self._bucket, self._parts))
            return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PureURIPath) or other.scheme != self.scheme:
            return NotImplemented
        return (self._bucket, self._parts) == (other._bucket, other._parts)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PureURIPath) or other.scheme != self.scheme:
            return NotImplemented
        return (self._bucket, self._parts) < (other._bucket, other._parts)

    def __truediv__(self, other: Any) -> Any:
        try:
            return self.joinpath(other)
        except TypeError:
            return NotImplemented

    def __rtruediv__(self, other: Any) -> Any:
        if self.owns(other):
            return self.with_segments(other, self)
        return NotImplemented

    def joinpath(self, *segments: Any) -> Any:
        """Append ``segments``; a URI segment replaces the path, a ``/x`` one restarts at the bucket."""
        return self._make(*self._joined(segments))

    # -- pathlib's pure properties -----------------------------------------------------------

    @property
    def drive(self) -> str:
        return f"{self._prefix}{self._bucket}" if self._bucket else self.scheme + ":"

    @property
    def root(self) -> str:
        return "/" if self._bucket else "//"

    @property
    def anchor(self) -> str:
        """``s3://bucket/`` (or ``s3://`` for the root of all buckets)."""
        return f"{self._prefix}{self._bucket}/" if self._bucket else self._prefix

    @property
    def parts(self) -> tuple[str, ...]:
        """``('s3://bucket/', 'dir', 'file.txt')``."""
        return (self.anchor, *self._parts)

    @property
    def name(self) -> str:
        return self._parts[-1] if self._parts else ""

    @property
    def suffix(self) -> str:
        return _posix_name(self.name).suffix

    @property
    def suffixes(self) -> list[str]:
        return _posix_name(self.name).suffixes

    @property
    def stem(self) -> str:
        name = self.name
        return name if name in ("", ".") else _posix_name(name).stem

    @property
    def parent(self) -> Any:
        """The enclosing prefix; the bucket root is its own parent (like ``/``)."""
        if not self._parts:
            return self
        return type(self)._from_parsed(self._bucket, self._parts[:-1])

    @property
    def up(self) -> Any:
        """The folder a file manager shows above this one: the parent, and above an authority's root
        (``s3://bucket/``) the list of authorities (``s3://``)."""
        if not self._parts and self._bucket:
            return type(self)._from_parsed("", ())
        return self.parent

    @property
    def is_listing_root(self) -> bool:
        """Whether this is ``scheme://`` itself: the list of buckets (containers, hosts), where nothing
        can be written."""
        return not self._bucket

    @property
    def parents(self) -> Sequence[Any]:
        """Every ancestor up to the bucket root, nearest first."""
        cls, bucket, parts = type(self), self._bucket, self._parts
        return tuple(cls._from_parsed(bucket, parts[:i]) for i in range(len(parts) - 1, -1, -1))

    def with_name(self, name: str) -> Any:
        if not self._parts:
            raise ValueError(f"{self!r} has an empty name")
        if not name or "/" in name:
            raise ValueError(f"invalid name {name!r}")
        return self._make(self._bucket, (*self._parts[:-1], name))

    def with_stem(self, stem: str) -> Any:
        return self.with_name(stem + self.suffix)

    def with_suffix(self, suffix: str) -> Any:
        if not self._parts or not self.name:
            raise ValueError(f"{self!r} has an empty name")
        return self.with_name(str(_posix_name(self.name).with_suffix(suffix)))

    def is_absolute(self) -> bool:
        return True

    def is_reserved(self) -> bool:
        return False

    # -- relations -------------------------------------------------------------------------------

    def _coerce(self, other: Any) -> PureURIPath:
        if isinstance(other, PureURIPath) and other.scheme == self.scheme:
            return other
        text = _as_segment(other)
        if not self.owns(text):
            raise ValueError(f"{str(self)!r} is a {self.scheme}:// path; {text!r} is not")
        return type(self)(text)

    def is_relative_to(self, other: Any) -> bool:
        """Component-wise: ``s3://b/ab`` is not relative to ``s3://b/a``."""
        try:
            other = self._coerce(other)
        except ValueError:
            return False
        n = len(other._parts)
        return other._bucket in ("", self._bucket) and self._parts[:n] == other._parts

    def relative_to(self, other: Any) -> PurePosixPath:
        """The key below ``other`` as a relative ``PurePosixPath`` (ValueError if not below it)."""
        other = self._coerce(other)
        if not self.is_relative_to(other):
            raise ValueError(f"{str(self)!r} is not in the subpath of {str(other)!r}")
        if not other._bucket:
            return PurePosixPath(self._bucket, *self._parts)
        return PurePosixPath(*self._parts[len(other._parts):])

    def match(self, pattern: str, *, case_sensitive: bool = True) -> bool:
        """pathlib's ``match``: a relative pattern matches from the right, a URI one fully."""
        if self.owns(pattern):
            other = type(self)(pattern)
            if other._bucket != self._bucket and not fnmatch.fnmatchcase(self._bucket, other._bucket):
                return False
            return match_parts(other._parts, self._parts, case_sensitive)
        pattern_parts = tuple(p for p in pattern.split("/") if p)
        if not pattern_parts:
            raise ValueError("empty pattern")
        if len(pattern_parts) > len(self._parts):
            return False
        tail = self._parts[len(self._parts) - len(pattern_parts):]
        return match_parts(pattern_parts, tail, case_sensitive)

    def full_match(self, pattern: str, *, case_sensitive: bool = True) -> bool:
        """pathlib 3.13's ``full_match``: the pattern must match the whole path; ``**`` spans levels."""
        if not self.owns(pattern):
            return False
        other = type(self)(pattern)
        return other._bucket == self._bucket and match_parts(other._parts, self._parts, case_sensitive)


class PureS3Path(PureURIPath):
    """An ``s3://bucket/key`` location with pathlib's pure API and no I/O.

    ``bucket`` is the bucket name (``''`` for ``s3://``, the list of buckets) and ``key`` the
    object key (``''`` for the bucket root).  ``s3a://`` URIs are read as ``s3://``.
    """

    __slots__ = ()
    scheme = "s3"

    @classmethod
    def owns(cls, text: object) -> bool:
        return is_s3_uri(text)

    @classmethod
    def _split(cls, uri: str) -> tuple[str, tuple[str, ...]]:
        return split_s3_uri(uri)

    check_authority = staticmethod(validate_bucket)
    key_parts = staticmethod(key_to_parts)

    def _check_key(self, parts: tuple[str, ...]) -> None:
        validate_key(parts_to_key(parts))


def _as_segment(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, PureURIPath):
        return str(value)
    if isinstance(value, PurePosixPath) or hasattr(value, "__fspath__"):
        import os

        return os.fspath(value)
    raise TypeError(f"expected str or path object, not {type(value).__name__}")


@functools.lru_cache(maxsize=4096)
def _posix_name(name: str) -> PurePosixPath:
    # PurePosixPath would read '' and '.' as "the current directory", which has no name.
    return PurePosixPath(name) if name not in ("", ".") else _DOT_NAME


_DOT_NAME = PurePosixPath("..")  # a name with no stem/suffix split, like '.' and ''


# -- glob matching over key components -------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _component_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), 0 if case_sensitive else re.IGNORECASE)


def match_parts(pattern: Sequence[str], parts: Sequence[str], case_sensitive: bool = True) -> bool:
    """Match key components against glob components, where ``**`` spans zero or more components."""
    pattern, parts = tuple(pattern), tuple(parts)
    return _match(pattern, parts, case_sensitive)


@functools.lru_cache(maxsize=65536)
def _match(pattern: tuple[str, ...], parts: tuple[str, ...], case_sensitive: bool) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:], case_sensitive) for i in range(len(parts) + 1))
    if not parts:
        return False
    if not _component_regex(head, case_sensitive).match(parts[0]):
        return False
    return _match(rest, parts[1:], case_sensitive)


def iter_pattern_parts(pattern: str) -> Iterator[str]:
    """Split a relative glob pattern into components; ``**`` must stand alone in its component."""
    if not pattern or pattern.startswith("/") or is_s3_uri(pattern):
        raise ValueError(f"non-relative or empty pattern {pattern!r}")
    for part in pattern.split("/"):
        if "**" in part and part != "**":
            raise ValueError("invalid pattern: '**' can only be an entire path component")
        if part:
            yield part
