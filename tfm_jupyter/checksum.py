"""Does this content match that ETag?  MD5s, and the part-wise MD5 of multipart uploads.

A single-part S3 upload's ETag is the MD5 of its bytes.  A multipart upload's is the MD5 of the
parts' binary MD5s followed by ``-N`` (N parts); the part size is not stored, so it is inferred
from the sizes common uploaders use (8 MiB for boto3 and the AWS CLI, 5 MiB, 16 MiB, …) and from
``size / N``.  An ETag that is neither (SSE-KMS and SSE-C objects, some S3-compatible servers)
cannot be checked: :func:`etag_matches` answers None and the caller falls back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

__all__ = ["CHUNK", "candidate_part_sizes", "etag_matches", "md5_etag", "multipart_etag"]

CHUNK = 2**20
MiB = 2**20
COMMON_PART_SIZES = (8 * MiB, 5 * MiB, 16 * MiB, 15 * MiB, 10 * MiB, 32 * MiB, 64 * MiB, 100 * MiB, 128 * MiB,
                     256 * MiB, 512 * MiB)
_PLAIN = re.compile(r'^"?([0-9a-f]{32})"?$')
_MULTI = re.compile(r'^"?([0-9a-f]{32})-(\d+)"?$')


def _chunks(stream: BinaryIO, limit: int | None = None) -> Iterator[bytes]:
    left = limit
    while left is None or left > 0:
        chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def md5_etag(stream: BinaryIO) -> str:
    """The ETag a single-part upload of ``stream``'s bytes gets (hex MD5, unquoted)."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in _chunks(stream):
        digest.update(chunk)
    return digest.hexdigest()


def multipart_etag(stream: BinaryIO, part_size: int) -> str:
    """The ETag of a multipart upload of ``stream`` in parts of ``part_size`` bytes."""
    digests, parts = hashlib.md5(usedforsecurity=False), 0
    while True:
        part = hashlib.md5(usedforsecurity=False)
        size = 0
        for chunk in _chunks(stream, part_size):
            part.update(chunk)
            size += len(chunk)
        if not size:
            break
        digests.update(part.digest())
        parts += 1
    return f"{digests.hexdigest()}-{parts}"


def candidate_part_sizes(size: int, parts: int) -> list[int]:
    """Part sizes that cut ``size`` bytes into exactly ``parts`` parts: the common ones first, then
    ``size / parts`` rounded up to a whole MiB and to a byte."""
    guesses = [*COMMON_PART_SIZES, -(-size // parts // MiB) * MiB if size >= parts else 0, -(-size // parts)]
    found: list[int] = []
    for guess in guesses:
        if guess > 0 and -(-size // guess) == parts and guess not in found:
            found.append(guess)
    return found


def etag_matches(etag: str | None, size: int, open_content: Callable[[], Any]) -> bool | None:
    """Whether ``etag`` was computed from the content ``open_content()`` returns: True or False for a
    single-part ETag, True for a multipart one whose part size is found, and None when no MD5
    explains it (missing, SSE-KMS, an unguessed part size, or different content: undecidable)."""
    if not etag:
        return None
    plain = _PLAIN.match(etag)
    if plain:
        with open_content() as stream:
            return md5_etag(stream) == plain.group(1)
    multi = _MULTI.match(etag)
    if not multi:
        return None
    wanted = f"{multi.group(1)}-{multi.group(2)}"
    for part_size in candidate_part_sizes(size, int(multi.group(2))):
        with open_content() as stream:
            if multipart_etag(stream, part_size) == wanted:
                return True
    return None  # changed content, or parts of a size nobody guessed: the caller must fall back
