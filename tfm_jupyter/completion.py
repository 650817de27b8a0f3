"""Tab completion of S3 paths: bucket names, then prefixes, served from the cache.

Works in the ``%s3*`` magics (also for names relative to ``%s3cd``) and in any string literal that
holds an ``s3://`` URI, e.g. ``Path('s3://demo/sa<TAB>``.  Completing the same folder twice costs
no request: listings come from the shared cache.
"""

from __future__ import annotations

import re
from typing import Any

from .path import S3Path

__all__ = ["complete_s3", "s3_completions"]

MAX_COMPLETIONS = 500
_MAGIC_LINE = re.compile(r"^\s*%%?(s3[a-z]+|tfm)\b")


def s3_completions(text_before_cursor: str) -> tuple[str, list[str]] | None:
    """``(fragment, completions)`` for the S3 location being typed, or None if there is none.

    ``fragment`` is the part of the last path component already typed; each completion replaces it
    (directories end with ``/``).
    """
    start = text_before_cursor.lower().rfind("s3://")
    if start >= 0:
        typed = text_before_cursor[start:]
        quoted = start > 0 and text_before_cursor[start - 1] in "'\""
        if quoted or not re.search(r"\s", typed):
            return _complete_uri(typed)
    magic = _MAGIC_LINE.match(text_before_cursor)
    if magic and isinstance(_cwd(), S3Path):
        argument = re.split(r"\s+", text_before_cursor)[-1]
        if argument and not argument.startswith("-") and not argument.startswith(("/", "~")):
            return _complete_relative(_cwd(), argument)
    return None


def _cwd() -> Any:
    from .commands import cwd

    return cwd()


def _complete_uri(typed: str) -> tuple[str, list[str]]:
    from .s3.stores import get_store

    rest = typed[len("s3://"):]
    if "/" not in rest:
        buckets = get_store().list_buckets()
        return rest, [name + "/" for name in buckets if name.startswith(rest)][:MAX_COMPLETIONS]
    bucket, _, key = rest.partition("/")
    directory, _, fragment = key.rpartition("/")
    return fragment, _children(bucket, directory + "/" if directory else "", fragment)


def _complete_relative(base: S3Path, typed: str) -> tuple[str, list[str]]:
    directory, _, fragment = typed.rpartition("/")
    prefix = base.dir_prefix + (directory + "/" if directory else "")
    return fragment, _children(base.bucket, prefix, fragment)


def _children(bucket: str, prefix: str, fragment: str) -> list[str]:
    from .s3.stores import get_store

    try:
        listing = get_store().listdir(bucket, prefix)
    except OSError:  # a missing bucket or no permission: nothing to offer
        return []
    names = sorted(name for name in listing.children if name.startswith(fragment) and name)
    return [name + ("/" if listing.children[name].is_dir else "") for name in names[:MAX_COMPLETIONS]]


def complete_s3(context: Any) -> dict[str, Any]:
    """IPython completion matcher (API v2) for S3 paths."""
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
