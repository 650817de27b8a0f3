"""SQL over S3 objects (and every other backend's files) in place: DuckDB reading ``s3://``,
``sftp://``, ``memory://`` … through our fsspec filesystems.

DuckDB's own httpfs extension would need a download and credentials of its own; registering our
filesystem instead (``register_filesystem``) means a query's reads are our requests: the same
endpoint and credentials, counted by the meter, mapped to our errors.  Parquet is read by ranges,
so a query on one column fetches the footer and that column's chunks, not whole objects.
"""

from __future__ import annotations

import threading
from typing import Any

from ..backends import registered_schemes

__all__ = ["connection", "sql"]

_lock = threading.Lock()
_connection: Any = None


def connection() -> Any:
    """The DuckDB connection ``sql()`` uses, with ``s3://`` served by tfm_jupyter (created once)."""
    global _connection
    with _lock:
        if _connection is None:
            import duckdb

            from .fs import filesystem

            con = duckdb.connect()
            # Known extensions (httpfs for s3://) are never fetched: that needs the network and
            # credentials of its own; s3:// (and every other backend's scheme) is ours.
            con.execute("SET autoload_known_extensions = false")
            for scheme in served_schemes():
                con.register_filesystem(filesystem(scheme))
            _connection = con
        return _connection


def served_schemes() -> list[str]:
    """The schemes DuckDB reads through us: every registered backend's but the local disk's."""
    return [scheme for scheme in registered_schemes() if scheme not in ("file", "s3a")]


def sql(query: str, *, params: Any = None) -> Any:
    """Run ``query`` with DuckDB and return a pandas DataFrame.

    ``FROM 's3://bucket/sales/**/*.csv'`` (CSV, Parquet, JSON; globs included) reads S3 in place:
    ``sql("SELECT region, sum(amount) FROM 's3://demo/sales/**/*.csv' GROUP BY 1")``.  A query
    that cannot read its input raises our ``OSError`` subclasses (``FileNotFoundError`` for a
    pattern matching nothing); a query DuckDB cannot run raises ``ValueError``.
    """
    import duckdb

    con = connection()
    with _lock:  # one DuckDB connection is not for concurrent use
        try:
            return con.execute(query, params).df()
        except duckdb.Error as exc:
            raise _mapped(exc) from None


def _mapped(exc: Exception) -> Exception:
    """DuckDB's error as one of ours: reading failures as OSErrors, everything else as ValueError."""
    import duckdb

    from .. import errors

    text = str(exc)
    # A failure inside our filesystem reaches us as text ending in the Python exception's last line.
    last = text.strip().splitlines()[-1] if text.strip() else ""
    name, _, detail = last.partition(": ")
    raised = getattr(errors, name, None)
    if isinstance(raised, type) and issubclass(raised, errors.S3Error):
        return raised(f"the query could not read its input: {detail}")
    if isinstance(exc, duckdb.IOException):
        if "No files found" in text:
            return errors.NotFound(f"{text} (no object matches; check the bucket, prefix and pattern)")
        return errors.S3Error(f"the query could not read its input: {text}")
    return ValueError(text)
