"""Tab completion of storage paths (``s3://``, ``sftp://``, ``memory://`` … every registered scheme):
authorities (buckets, hosts), then folders and files, served from each backend's cache.

Works in the magics (also for names relative to ``%s3cd``) and in any string literal that holds a
URI, e.g. ``Path('s3://demo/sa<TAB>``.  Completing the same folder twice costs no request where the
backend caches listings (S3).
"""

from __future__ import annotations

import re
from typing import Any

from .backends import registered_scheme
from .path import Path

__all__ = ["complete_s3", "s3_completions"]

MAX_COMPLETIONS = 500
_MAGIC_LINE = re.compile(r"^\s*%%?(s3[a-z]+|tfm)\b")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def s3_completions(text_before_cursor: str) -> tuple[str, list[str]] | None:
    """``(fragment, completions)`` for the storage location being typed, or None if there is none.

    ``fragment`` is the part of the last path component already typed; each completion replaces it
    (directories end with ``/``).
    """
    for match in reversed(list(_URI.finditer(text_before_cursor))):
        typed = text_before_cursor[match.start():]
        if registered_scheme(typed) is None:
            continue
        quoted = match.start() > 0 and text_before_cursor[match.start() - 1] in "'\""
        if quoted or not re.search(r"\s", typed):
            return _complete_uri(typed)
        break
    magic = _MAGIC_LINE.match(text_before_cursor)
    if magic and _cwd().backend.local_name(_cwd()) is None:
        argument = re.split(r"\s+", text_before_cursor)[-1]
        if argument and not argument.startswith("-") and not argument.startswith(("/", "~")):
            return _complete_relative(_cwd(), argument)
    return None


def _cwd() -> Any:
    from .commands import cwd

    return cwd()


def _complete_uri(typed: str) -> tuple[str, list[str]]:
    head, _, fragment = typed.rpartition("/")
    if head.endswith(":/"):  # scheme:// itself: the authorities (buckets, hosts) are being typed
        head += "/"
    try:
        folder = Path(head)
    except (ValueError, KeyError):  # not a valid location yet
        return fragment, []
    return fragment, _children(folder, fragment)


def _complete_relative(base: Any, typed: str) -> tuple[str, list[str]]:
    directory, _, fragment = typed.rpartition("/")
    folder = base.child(*directory.split("/")) if directory else base
    return fragment, _children(folder, fragment)


def _children(folder: Any, fragment: str) -> list[str]:
    try:
        listing = folder.backend.listdir(folder)
    except OSError:  # a missing bucket or no permission: nothing to offer
        return []
    names = sorted(name for name in listing.children if name.startswith(fragment) and name)
    return [name + ("/" if listing.children[name].is_dir else "") for name in names[:MAX_COMPLETIONS]]


def complete_s3(context: Any) -> dict[str, Any]:
    """IPython completion matcher (API v2) for storage paths."""
    from IPython.core.completer import SimpleCompletion

    try:
        found = s3_completions(context.text_until_cursor)
    except Exception:  # completion must never raise into the editor
        found = None
    if found is None:
        return {"completions": [], "suppress": False}
    fragment, names = found
    return {
        "completions": [SimpleCompletion(name, type="directory" if name.endswith("/") else "file") for name in names],
        "matched_fragment": fragment,
        "suppress": bool(names),
        "ordered": True,
    }


complete_s3.matcher_api_version = 2  # type: ignore[attr-defined]
