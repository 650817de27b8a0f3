"""Storage backends, one per URI scheme: the interface (:mod:`.base`) and the registry.

``Path('scheme://…')`` asks this registry which backend serves ``scheme``.  A new backend is one
module with a :class:`~tfm_jupyter.backends.base.Backend` subclass plus one call::

    register_backend("mem", MemoryBackend())

after which ``Path("mem://box/a.txt")`` has pathlib's API, and copy/move reach it from S3 and local
paths.  The built-in entries are imported only when first used, so ``import tfm_jupyter`` stays fast.
"""

from __future__ import annotations

import importlib
import re
import threading
from typing import Any

from .base import Backend
from .batch import Batch, FileJob, ThreadBatch, default_batch

__all__ = ["Backend", "Batch", "FileJob", "ThreadBatch", "configuration_snapshot", "default_batch", "get_backend",
           "live_backends", "path_class_of", "register_backend", "registered_scheme", "registered_schemes",
           "restore_configuration"]

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_ALIASES = {"s3a": "s3", "abfs": "az", "abfss": "az"}  # Hadoop's names for S3 and Azure

_lock = threading.Lock()
_backends: dict[str, Backend | str] = {
    "s3": "tfm_jupyter.backends.s3:S3Backend",
    "file": "tfm_jupyter.backends.local:LocalBackend",
    "memory": "tfm_jupyter.backends.memory:MemoryBackend",
    "sftp": "tfm_jupyter.backends.sftp:SFTPBackend",
    "ftp": "tfm_jupyter.backends.ftp:FTPBackend",
    "ftps": "tfm_jupyter.backends.ftp:FTPSBackend",
    "az": "tfm_jupyter.backends.azure:AzureBackend",
    "gs": "tfm_jupyter.backends.gcs:GCSBackend",
}
_path_classes: dict[str, Any] = {}


def configuration_snapshot() -> dict[str, Any]:
    """Every storage's configuration (``configure_s3``, ``configure_storage``; secrets included), to
    hand to another process (a Dask worker) for :func:`restore_configuration`."""
    from .. import config
    from ..s3.client import registry

    return {"s3": registry.snapshot(), "storage": config.snapshot()}


def restore_configuration(snapshot: dict[str, Any]) -> None:
    """Take another process's :func:`configuration_snapshot` (its secrets are redacted here too)."""
    from .. import config
    from ..s3.client import registry

    registry.restore(snapshot["s3"])
    config.restore(snapshot["storage"])


def register_backend(scheme: str, backend: Backend, *, path_class: Any = None) -> None:
    """Serve ``scheme://`` URIs with ``backend``; ``path_class`` (a ``StoragePath`` subclass) is
    optional: by default the scheme's paths get the generic pathlib API derived from the backend."""
    if not isinstance(backend, Backend):
        raise TypeError(f"backend must be a tfm_jupyter.backends.Backend, not {type(backend).__name__}")
    scheme = scheme.lower()
    if scheme in ("s3", "s3a", "file"):
        raise ValueError(f"{scheme!r} is built in; configure it with configure_s3 instead")
    with _lock:
        _backends[scheme] = backend
        _path_classes.pop(scheme, None)
        if path_class is not None:
            _path_classes[scheme] = path_class


def get_backend(scheme: str) -> Backend:
    """The backend serving ``scheme`` (KeyError if none does)."""
    scheme = _ALIASES.get(scheme.lower(), scheme.lower())
    with _lock:
        entry = _backends[scheme]
        if isinstance(entry, str):
            module, _, name = entry.partition(":")
            entry = _backends[scheme] = getattr(importlib.import_module(module), name)()
        return entry


def registered_scheme(value: object) -> str | None:
    """The registered scheme ``value`` (a string) is a URI of, or None."""
    if not isinstance(value, str):
        return None
    match = _SCHEME_RE.match(value)
    if match is None:
        return None
    scheme = _ALIASES.get(match.group(1).lower(), match.group(1).lower())
    return scheme if scheme in _backends and scheme != "file" else None


def registered_schemes() -> list[str]:
    """Every scheme a backend serves (built-in ones included, whether used yet or not)."""
    with _lock:
        return sorted(_backends)


def live_backends() -> dict[str, Backend]:
    """The backends this process has used (built-in ones are created on first use), by scheme."""
    with _lock:
        return {scheme: entry for scheme, entry in _backends.items() if isinstance(entry, Backend)}


def path_class_of(scheme: str) -> Any:
    """The path class registered for ``scheme``, or None (then the generic one serves it)."""
    return _path_classes.get(scheme)
