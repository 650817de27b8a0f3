"""S3 Inventory as a listing source: every key of a bucket from its inventory report, no listing.

S3 Inventory writes, daily or weekly, a list of every object of a bucket: a ``manifest.json`` (at
``destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json``) naming data files in
CSV (gzip) or Parquet.  Reading those few files answers ``find`` and ``du`` over millions of keys for
a handful of GETs instead of a ListObjectsV2 per 1,000 keys.  The data files are read through our
own ``Path.open()`` (the same endpoint, credentials and meter) by DuckDB, which filters by prefix as
it parses.  An inventory is a snapshot: :attr:`Inventory.created` says when it was taken, and
prefixes known to change (``live=``) can be listed afresh and take the inventory's place.

CSV keys are URL-encoded by S3 (form encoding: ``+`` for a space); Parquet keys are plain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import errors
from .path import Path

__all__ = ["Inventory", "InventoryObject", "read_inventory", "report_for"]

BATCH = 50_000  # rows taken from DuckDB at a time: memory stays bounded on millions of keys
_CSV_NAMES = {"Bucket": "bucket", "Key": "key", "Size": "size", "LastModifiedDate": "last_modified_date",
              "ETag": "e_tag", "StorageClass": "storage_class", "VersionId": "version_id",
              "IsLatest": "is_latest", "IsDeleteMarker": "is_delete_marker"}


@dataclass(frozen=True)
class InventoryObject:
    """One object as the inventory lists it."""

    key: str
    size: int
    mtime: float
    storage_class: str | None


@dataclass(frozen=True)
class Inventory:
    """An inventory report: where it is, what it lists and when it was taken."""

    manifest: Any
    source_bucket: str
    created: float  # seconds since the epoch (the manifest's creationTimestamp)
    file_format: str  # "CSV" or "Parquet"
    columns: tuple[str, ...]  # the data files' columns, in our snake_case names
    files: tuple[Any, ...]  # the data files, as paths

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, UTC)

    def objects(self, prefix: str = "") -> Iterator[InventoryObject]:
        """Every current object whose key starts with ``prefix`` (delete markers and older versions of
        a versioned bucket's report left out), in the report's order."""
        for data_file in self.files:
            yield from self._objects_in(data_file, prefix)

    def _objects_in(self, data_file: Any, prefix: str) -> Iterator[InventoryObject]:
        import duckdb

        con = duckdb.connect()
        try:
            with data_file.open("rb") as handle:
                if self.file_format == "CSV":
                    con.read_csv(handle, header=False, compression="gzip", names=list(self.columns),
                                 all_varchar=True).create_view("report")
                    key = "url_decode(replace(key, '+', ' '))"
                else:
                    con.read_parquet(handle).create_view("report")
                    key = "key"
                present = {row[0] for row in con.execute("DESCRIBE report").fetchall()}
                result = con.execute(
                    f"SELECT {key}, CAST(size AS BIGINT), epoch(CAST(last_modified_date AS TIMESTAMPTZ)), "
                    f"{'storage_class' if 'storage_class' in present else 'NULL'} FROM report "
                    f"WHERE starts_with({key}, $prefix) {_current_only(present)}", {"prefix": prefix})
                while rows := result.fetchmany(BATCH):
                    for found, size, modified, storage_class in rows:
                        yield InventoryObject(found, size or 0, float(modified or 0.0), storage_class)
        except duckdb.Error as exc:
            raise errors.StorageError(f"cannot read this inventory data file ({type(exc).__name__}: {exc})",
                                      str(data_file), "inventory") from None
        finally:
            con.close()


def read_inventory(manifest: Any) -> Inventory:
    """The inventory report whose ``manifest.json`` is at ``manifest`` (one GET)."""
    manifest = Path(manifest)
    try:
        document = json.loads(manifest.read_bytes())
        file_format = document["fileFormat"]
        bucket = document["destinationBucket"].rsplit(":", 1)[-1]  # an ARN: arn:aws:s3:::bucket
        files = tuple(Path(f"s3://{bucket}/{item['key']}") for item in document["files"])
        created = int(document["creationTimestamp"]) / 1000
        source = document["sourceBucket"]
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.StorageError(f"not an S3 Inventory manifest ({type(exc).__name__}: {exc}); give the "
                                  "manifest.json of a report", str(manifest), "inventory") from None
    if file_format not in ("CSV", "Parquet"):
        raise errors.UnsupportedOperation(f"{file_format} inventories are not read here; choose CSV or Parquet "
                                          "in the inventory configuration")
    schema = document.get("fileSchema", "") if file_format == "CSV" else ""
    columns = tuple(_CSV_NAMES.get(name.strip(), name.strip().lower()) for name in schema.split(",") if name.strip())
    if file_format == "CSV" and not {"key", "size", "last_modified_date"} <= set(columns):
        raise errors.StorageError("this inventory has no Size or LastModifiedDate: add them to the inventory's "
                                  "optional fields", str(manifest), "inventory")
    return Inventory(manifest, source, created, file_format, columns or ("key",), files)


def report_for(root: Any, inventory: Any) -> tuple[Inventory, str]:
    """The report (read from its manifest's URI unless given read) and the key prefix of ``root`` in it;
    ValueError when the report lists another bucket."""
    report = inventory if isinstance(inventory, Inventory) else read_inventory(inventory)
    if getattr(root, "bucket", None) != report.source_bucket:
        raise ValueError(f"this inventory lists s3://{report.source_bucket}/, not {root}")
    return report, f"{root.key}/" if root.key else ""


def _current_only(columns: set[str]) -> str:
    """Older versions and delete markers are not objects a listing would show."""
    parts = []
    if "is_latest" in columns:
        parts.append("AND CAST(is_latest AS VARCHAR) IN ('true', 'True', 'TRUE')")
    if "is_delete_marker" in columns:
        parts.append("AND CAST(is_delete_marker AS VARCHAR) NOT IN ('true', 'True', 'TRUE')")
    return " ".join(parts)
