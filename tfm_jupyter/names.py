"""The name gate: which names from storage may become file names below a target folder.

A bucket's keys are written by someone else.  On an object store a key component is a literal
string (``..`` is a name like any other), but a file system reads some names as directions:
``..`` and ``.`` walk, an empty component or a leading ``/`` restarts, a ``/`` inside a name or a
NUL cuts it.  :func:`unsafe_reason` is the one pure test every backend whose names are paths
(local disk, SFTP, FTP) applies before a remote name becomes one of its paths; the local backend
adds the check no pure function can make (no symlink on the way leads out of the target).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MAX_NAME_BYTES", "unsafe_parts", "unsafe_reason"]

MAX_NAME_BYTES = 255  # NAME_MAX of Linux, macOS and every common file system


def unsafe_reason(name: str) -> str | None:
    """Why ``name`` cannot be one component of a file name below a folder, or None if it can."""
    if name in ("", ".", ".."):
        return f"{name!r} is not a file name (it would {'restart at the root' if not name else 'walk'})"
    if "/" in name or "\0" in name:
        return f"{name!r} holds a '/' or a NUL, which would split or cut it"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"a name of {len(name.encode('utf-8', 'surrogateescape'))} bytes is longer than file systems allow"
    return None


def unsafe_parts(parts: Iterable[str]) -> str | None:
    """The first reason one of ``parts`` cannot be a name below a folder, or None."""
    for part in parts:
        reason = unsafe_reason(part)
        if reason is not None:
            return reason
    return None
