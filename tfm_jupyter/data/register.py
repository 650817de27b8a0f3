"""``s3://`` strings given to fsspec-aware libraries reach tfm_jupyter, without importing fsspec early.

fsspec costs ~120 ms to import, more than the rest of ``import tfm_jupyter``, so the protocols are
registered the moment something imports fsspec (pandas does, on its first ``s3://`` path), or at
once where it already is imported.  A protocol an s3fs class is already serving in this process
(``fsspec.registry``) is left to it unless ``force=True``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from typing import Any

__all__ = ["install", "register_fsspec"]

PROTOCOLS = ("s3", "s3a")
CLASS_PATH = "tfm_jupyter.data.fs.S3FileSystem"


def register_fsspec(force: bool = False) -> list[str]:
    """Serve ``s3://`` and ``s3a://`` in fsspec with :class:`~tfm_jupyter.data.fs.S3FileSystem`.

    Returns the protocols now served by us.  A protocol already imported and in use (say s3fs,
    configured before tfm_jupyter) keeps its class unless ``force``.
    """
    import fsspec

    served = []
    for protocol in PROTOCOLS:
        current = fsspec.registry.get(protocol)  # a class already imported for it
        if current is not None and f"{current.__module__}.{current.__qualname__}" != CLASS_PATH:
            if not force:
                continue
            from .fs import S3FileSystem

            fsspec.register_implementation(protocol, S3FileSystem, clobber=True)
        else:
            fsspec.register_implementation(protocol, CLASS_PATH, clobber=True)
        served.append(protocol)
    return served


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when fsspec is imported, it registers our protocols right after."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "fsspec":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run_module(module)
            try:
                register_fsspec()
            except Exception:  # never let our registration break someone's import of fsspec
                pass

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_installed = False


def install() -> None:
    """Register now if fsspec is imported, else as soon as it is (idempotent, imports nothing)."""
    global _installed
    if _installed:
        return
    _installed = True
    if "fsspec" in sys.modules:
        register_fsspec()
    else:
        sys.meta_path.insert(0, _RegisterOnImport())
