"""Keeps ``s3://`` names out of the local file system.

``os.fspath(Path('s3://b/k'))`` is the URI ``'s3a://b/k'`` so that pandas takes S3 paths.  PEP 519
means a *local* name, though: ``open(p, 'w')`` would create ``./s3a:/b/k`` once ``os.makedirs(p)``
had made the folders.  This audit hook (``sys.addaudithook``, installed the first time an S3 path
is turned into a name) refuses every local open, mkdir, rename, remove, link and truncate of a name
that starts with ``s3:/`` or ``s3a:/``, with a message saying what to use instead.
"""

from __future__ import annotations

import sys
from typing import Any

from . import errors

__all__ = ["guard_local_file_system", "is_s3_name"]

# Audit events that create, change or open a local file, and which of their arguments are names.
_EVENTS = {
    "open": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,),
    "os.link": (0, 1), "os.symlink": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.utime": (0,),
    "os.chown": (0,), "shutil.copyfile": (0, 1), "shutil.rmtree": (0,),
}
_S3_NAMES = ("s3:/", "s3a:/")  # `s3:` and `s3a:` alone are the first folder os.makedirs would make
_installed = False


def is_s3_name(value: Any) -> bool:
    """Whether a would-be local file name is really an S3 URI (``s3://…``, ``s3a://…``, or their
    one-slash forms after pathlib)."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return isinstance(value, str) and (value.startswith(_S3_NAMES) or value in ("s3:", "s3a:"))


def _refuse_s3_names(event: str, args: tuple[Any, ...]) -> None:
    positions = _EVENTS.get(event)
    if positions is None:
        return
    for position in positions:
        if position < len(args) and is_s3_name(args[position]):
            uri = _as_uri(args[position])
            raise errors.NotLocal(
                f"{uri!r} is an S3 location, not a local file: use tfm_jupyter.Path({uri!r}).open(), "
                ".read_bytes(), .mkdir() ... (pandas takes the Path itself)", uri, event)


def _as_uri(name: Any) -> str:
    """``s3a://b/k``, ``s3:/b/k`` (pathlib's spelling) ... as the ``s3://b/k`` users write."""
    text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    rest = text.split(":", 1)[1].lstrip("/")
    return f"s3://{rest}"


def guard_local_file_system() -> None:
    """Install the audit hook once per process (it cannot be removed: Python allows no such thing)."""
    global _installed
    if not _installed:
        _installed = True
        sys.addaudithook(_refuse_s3_names)
