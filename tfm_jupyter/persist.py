"""The cache's optional second level on disk: an SQLite file shared by kernels and restarts.

Values arrive already encoded as JSON text (the storage layer owns the codec: no pickle, so a
cache file can never run code, and every row is validated when it is read).  The file holds key
names, so it is private: its folder is 0700 and the file (with SQLite's ``-wal``/``-shm``) 0600,
also when they existed before.  Expiry uses wall-clock time so it means the same in every process.
Any SQLite problem - a corrupt, locked or unwritable file - disables the disk level for this
process with one warning, and malformed rows are ignored with one warning; the in-memory cache
and S3 keep working.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

__all__ = ["DiskCache", "cache_file", "default_path", "for_pattern"]

log = logging.getLogger("tfm_jupyter.cache")
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    operation TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, params TEXT NOT NULL,
    value TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (operation, bucket, key, params)
)"""


FILE_NAME = "s3cache.sqlite3"


def default_path() -> Path:
    """``$XDG_CACHE_HOME/tfm_jupyter/s3cache.sqlite3`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tfm_jupyter" / FILE_NAME


def cache_file(location: str | os.PathLike[str]) -> Path:
    """The SQLite file for ``location``: the file itself, or ``s3cache.sqlite3`` inside a directory
    (an existing one, or a name written with a trailing slash)."""
    path = Path(os.path.expanduser(location))
    if path.is_dir() or str(location).endswith(("/", os.sep)):
        return path / FILE_NAME
    return path


def _private_file(path: Path) -> None:
    """Make ``path``'s folder 0700 and ``path`` 0600 (created empty if missing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


def for_pattern(location: str | os.PathLike[str], pattern: str | None) -> Path:
    """The file for the cache of one bucket pattern: ``s3cache-<hash>.sqlite3`` beside the default's."""
    path = cache_file(location)
    if pattern is None:
        return path
    digest = hashlib.sha1(pattern.encode(), usedforsecurity=False).hexdigest()[:12]
    return path.with_name(f"{path.stem}-{digest}{path.suffix}")


class DiskCache:
    """Entries keyed like the in-memory cache, stored in one SQLite table."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = 0.2):
        self.path = cache_file(path)
        self.broken: str | None = None
        self._warned_malformed = False
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            _private_file(self.path)
            self._db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
            for companion in ("-wal", "-shm"):  # SQLite makes them like the database; older ones may not be
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{self.path}{companion}", 0o600)
            self._db.execute("DELETE FROM entries WHERE expires <= ?", (time.time(),))
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    def _disable(self, exc: BaseException) -> None:
        if self.broken is None:
            self.broken = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"the persistent S3 cache at {self.path} is not usable and is ignored "
                          f"({self.broken}); delete the file to start afresh", RuntimeWarning, stacklevel=3)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def malformed(self, detail: str) -> None:
        """A row that is not a cached answer of ours was read (and ignored): say so once."""
        if not self._warned_malformed:
            self._warned_malformed = True
            warnings.warn(f"the persistent S3 cache at {self.path} holds malformed entries, which are ignored "
                          f"({detail}); delete the file to start afresh", RuntimeWarning, stacklevel=4)

    def _run(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                self._disable(exc)
                return []

    def get(self, operation: str, bucket: str, key: str, params: str) -> tuple[str, float] | None:
        """``(value, seconds left)`` of a fresh entry, else None."""
        rows = self._run("SELECT value, expires FROM entries WHERE operation=? AND bucket=? AND key=? AND params=?",
                         (operation, bucket, key, params))
        if not rows:
            return None
        value, expires = rows[0]
        if not isinstance(value, str) or isinstance(expires, bool) or not isinstance(expires, (int, float)):
            self.malformed(f"a row of types {type(value).__name__}, {type(expires).__name__}")
            return None
        left = expires - time.time()
        return (value, left) if left > 0 else None

    def put(self, operation: str, bucket: str, key: str, params: str, value: str, ttl: float) -> None:
        self._run("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)",
                  (operation, bucket, key, params, value, time.time() + ttl))

    def delete(self, operation: str, bucket: str, key: str, params: str) -> None:
        self._run("DELETE FROM entries WHERE operation=? AND bucket=? AND key=? AND params=?",
                  (operation, bucket, key, params))

    def delete_key(self, bucket: str, key: str) -> None:
        self._run("DELETE FROM entries WHERE bucket=? AND key=?", (bucket, key))

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        # substr() rather than LIKE: keys may contain '%' and '_'
        self._run("DELETE FROM entries WHERE bucket=? AND substr(key, 1, ?)=?", (bucket, len(prefix), prefix))

    def clear(self) -> None:
        self._run("DELETE FROM entries")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
