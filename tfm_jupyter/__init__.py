"""tfm_jupyter: S3 as a first-class filesystem inside Jupyter.

``Path('s3://bucket/key')`` and ``Path('/local/file')`` share pathlib's API; a shared cache makes
S3 feel local; ``%load_ext tfm_jupyter`` adds the ``%s3*`` magics and the ``%tfm`` browser.

Importing this package is cheap: boto3 and IPython are imported on first use.
"""

from __future__ import annotations

from typing import Any

from . import transfer as _transfer  # noqa: F401 - gives Path.copy/move their engine (stdlib only)
from .cache import S3Cache
from .data.register import install as _serve_s3_in_fsspec
from .errors import S3Error
from .guard import guard_local_file_system as _guard_local_file_system
from .path import LocalPath, Path, S3Path, S3StatResult
from .uri import PureS3Path

__version__ = "0.1.0"

_serve_s3_in_fsspec()  # `s3://` strings in pandas & co. reach us; fsspec itself is not imported here
_guard_local_file_system()  # from the first line on, `open("s3:/b/k")` (one slash) is refused, not a local file

__all__ = [
    "LocalPath",
    "Path",
    "PureS3Path",
    "S3Cache",
    "S3Error",
    "S3Path",
    "S3StatResult",
    "SyncReport",
    "arrow_filesystem",
    "browse",
    "clear_s3_cache",
    "configure_browser",
    "configure_s3",
    "configure_s3_cache",
    "configure_s3_prices",
    "configure_storage",
    "cwd",
    "du",
    "filesystem",
    "find",
    "get_s3_cache",
    "get_s3_cache_stats",
    "grep",
    "load_ipython_extension",
    "resolve",
    "sql",
    "sync",
    "unload_ipython_extension",
]

_LAZY = {
    "configure_s3": ("tfm_jupyter.s3.client", "configure_s3"),
    "configure_s3_cache": ("tfm_jupyter.s3.stores", "configure_s3_cache"),
    "configure_s3_prices": ("tfm_jupyter.s3.meter", "configure_s3_prices"),
    "get_s3_cache": ("tfm_jupyter.s3.stores", "get_s3_cache"),
    "get_s3_cache_stats": ("tfm_jupyter.s3.stores", "get_s3_cache_stats"),
    "clear_s3_cache": ("tfm_jupyter.s3.stores", "clear_s3_cache"),
    "configure_storage": ("tfm_jupyter.config", "configure_storage"),
    "browse": ("tfm_jupyter.browser", "browse"),
    "configure_browser": ("tfm_jupyter.browser.programs", "configure_browser"),
    "filesystem": ("tfm_jupyter.data.fs", "filesystem"),
    "arrow_filesystem": ("tfm_jupyter.data.fs", "arrow_filesystem"),
    "sql": ("tfm_jupyter.data.sql", "sql"),
    "cwd": ("tfm_jupyter.commands", "cwd"),
    "du": ("tfm_jupyter.commands", "du"),
    "find": ("tfm_jupyter.search", "find"),
    "grep": ("tfm_jupyter.search", "grep"),
    "sync": ("tfm_jupyter.synchronize", "sync"),
    "SyncReport": ("tfm_jupyter.sync_report", "SyncReport"),
    "resolve": ("tfm_jupyter.commands", "resolve"),
    "load_ipython_extension": ("tfm_jupyter.magics", "load_ipython_extension"),
    "unload_ipython_extension": ("tfm_jupyter.magics", "unload_ipython_extension"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'tfm_jupyter' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
