"""Keeps storage names (``s3://``, ``gs://``, ...) out of the local file system.

``os.fspath(Path('s3://b/k'))`` is the URI ``'s3a://b/k'`` so that pandas takes S3 paths.  PEP 519
means a *local* name, though: ``open(p, 'w')`` would create ``./s3a:/b/k`` once ``os.makedirs(p)``
had made the folders; and a typo (``pd.read_csv("s3:/b/k.csv")``, one slash) is a local name too.
This audit hook (``sys.addaudithook``, installed by ``import tfm_jupyter``: a hook costs nothing to
add and a dict lookup per audited event) refuses every local open, mkdir, rename, remove, link and
truncate of a name that starts with ``s3:/``, ``s3a:/``, ``gs:/``, ``az:/``, ``sftp:/`` ...
(see :data:`tfm_jupyter.uri.STORAGE_SCHEMES`), with a message saying what to use instead.
"""

from __future__ import annotations

import sys
from typing import Any

from . import errors
from .uri import STORAGE_SCHEMES, one_slash_uri

__all__ = ["guard_local_file_system", "is_storage_name"]

# Audit events that create, change or open a local file, and which of their arguments are names.
_EVENTS = {
    "open": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,),
    "os.link": (0, 1), "os.symlink": (0, 1), "os.truncate": (0,), "os.chmod": (0,), "os.utime": (0,),
    "os.chown": (0,), "shutil.copyfile": (0, 1), "shutil.rmtree": (0,),
}
_BARE = {f"{scheme}:" for scheme in STORAGE_SCHEMES}  # `s3:` alone: the first folder os.makedirs would make
_installed = False


def is_storage_name(value: Any) -> bool:
    """Whether a would-be local file name is really a storage URI (``s3://…``, ``gs:/…`` ...)."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str) or ":" not in value[:7]:
        return False  # the common case, decided without a regex
    return value.lower() in _BARE or _as_uri(value) is not None


def _refuse_s3_names(event: str, args: tuple[Any, ...]) -> None:
    positions = _EVENTS.get(event)
    if positions is None:
        return
    for position in positions:
        if position < len(args) and is_storage_name(args[position]):
            name = args[position].decode(errors="replace") if isinstance(args[position], bytes) else args[position]
            uri = _as_uri(name) or _as_uri(f"{name}/") or name  # `s3a:` alone is `s3://`
            kind = "an S3" if uri.startswith("s3://") else "a storage"
            raise errors.NotLocal(
                f"{uri!r} is {kind} location, not a local file: use tfm_jupyter.Path({uri!r}).open(), "
                ".read_bytes(), .mkdir() ... (pandas takes the Path itself, or the URI with two slashes)", uri, event)


def _as_uri(name: Any) -> str | None:
    """``s3://b/k`` for ``s3a://b/k``, ``s3:/b/k`` (one slash: a typo, or pathlib's spelling)..."""
    text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in STORAGE_SCHEMES or not rest.startswith("/"):
        return None
    return one_slash_uri(text) or one_slash_uri(f"{scheme}:/{rest.lstrip('/')}")


def guard_local_file_system() -> None:
    """Install the audit hook once per process (it cannot be removed: Python allows no such thing)."""
    global _installed
    if not _installed:
        _installed = True
        sys.addaudithook(_refuse_s3_names)
