"""Tables for the browser's preview: the head of a CSV file, and a parquet file's schema and first
rows read from its footer by range (never the whole object)."""

from __future__ import annotations

import csv
import json
from typing import Any

__all__ = ["JSON_EXTENSIONS", "TABLE_EXTENSIONS", "csv_table", "json_text", "parquet_table"]

JSON_EXTENSIONS = {"json": False, "jsonl": True, "ndjson": True, "geojson": False}  # extension: one record a line
RECORDS = 20

TABLE_EXTENSIONS = {"csv": ",", "tsv": "\t", "parquet": None}
ROWS = 20
FIRST_ROW_GROUP_LIMIT = 8 * 2**20  # the first rows are shown when the first row group is this small


def csv_table(head: bytes, delimiter: str, complete: bool, rows: int = ROWS) -> dict[str, Any]:
    """Columns and the first ``rows`` rows of CSV text that starts with ``head``."""
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not complete and lines:
        lines = lines[:-1]  # the last line of a cut head is partial
    parsed = list(csv.reader(lines[: rows + 1], delimiter=delimiter))
    columns, body = (parsed[0], parsed[1:]) if parsed else ([], [])
    return {"columns": columns, "rows": [[str(cell) for cell in row] for row in body],
            "more": not complete or len(lines) > rows + 1}


def json_text(head: bytes, complete: bool, lines: bool, records: int = RECORDS) -> str | None:
    """JSON laid out to read: a whole document indented, or the first ``records`` of JSON lines each
    indented (a line that is not JSON shown as it is); None when a cut document cannot be parsed."""
    text = head.decode("utf-8", errors="replace")
    if not lines:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False) if complete else None
        except ValueError:
            return None
    shown = []
    rows = text.splitlines() if complete else text.splitlines()[:-1]  # the last line of a cut head is cut
    for row in [r for r in rows if r.strip()][:records]:
        try:
            shown.append(json.dumps(json.loads(row), indent=2, ensure_ascii=False))
        except ValueError:
            shown.append(row)
    return "\n".join(shown)


def parquet_table(stream: Any, rows: int = ROWS) -> tuple[dict[str, Any], dict[str, Any]]:
    """(table, facts) of a parquet file open for reading: the footer gives schema, row count and
    row groups; the first rows come from the first row group when it is small."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(stream)
    metadata = parquet.metadata
    schema = parquet.schema_arrow
    facts = {"rows": f"{metadata.num_rows:,}", "row groups": metadata.num_row_groups,
             "columns": metadata.num_columns, "schema": ", ".join(f"{f.name}: {f.type}" for f in schema),
             "created by": metadata.created_by or ""}
    table: dict[str, Any] = {"columns": schema.names, "rows": [], "more": metadata.num_rows > rows}
    if metadata.num_row_groups and metadata.row_group(0).total_byte_size <= FIRST_ROW_GROUP_LIMIT:
        batch = next(parquet.iter_batches(batch_size=rows, row_groups=[0]), None)
        if batch is not None:
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            table["rows"] = [[_text(column[r]) for column in columns] for r in range(batch.num_rows)]
    return table, facts


def _text(value: Any) -> str:
    return "" if value is None else str(value)
