"""S3 Inventory as a listing source: ``find`` and ``du`` answered from a real-format report (manifest
plus gzip CSV or Parquet data files, as S3 writes them), with no listing of the source bucket."""

import csv
import gzip
import io
import json
import urllib.parse
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tfm_jupyter
from tfm_jupyter import Path, commands, errors, find
from tfm_jupyter.inventory import read_inventory

TAKEN = datetime(2026, 11, 30, 21, 32, tzinfo=UTC)
OBJECTS = {
    "data/2026/a.csv": b"id,ERROR\n1,2\n",
    "data/2026/b.csv": b"id\n" + b"9\n" * 600,
    "data/2026/notes +plus & space.txt": b"free text",
    "data/résumé 📊.csv": b"x\n",
    "data/empty/": b"",
    "logs/today.log": b"ERROR one\n",
    "top.csv": b"t\n",
}
FIELDS = ["Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass"]


def csv_gz(rows):
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode())


def rows_of(bucket, objects, modified="2026-11-30T20:00:00.000Z"):
    # S3 writes CSV keys URL-encoded, form style (a space is "+"); every "/" encoded too
    return [[bucket, urllib.parse.quote_plus(key, safe=""), str(len(body)), modified, "etag", "STANDARD"]
            for key, body in objects.items()]


def publish(s3, source, objects, *, fmt="CSV", fields=FIELDS, extra_rows=()):
    """A report as S3 Inventory publishes it, in its own bucket; returns the manifest's URI."""
    destination = s3.new_bucket("inv")
    base = f"inventory/{source}/daily/{TAKEN:%Y-%m-%dT%H-%MZ}"
    rows = rows_of(source, objects) + list(extra_rows)
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2:]]  # two data files, as big reports have
    files = {}
    for number, part in enumerate(halves):
        if fmt == "CSV":
            files[f"inventory/{source}/daily/data/{number}.csv.gz"] = csv_gz(part)
        else:
            table = pa.table({"bucket": [r[0] for r in part], "key": [urllib.parse.unquote_plus(r[1]) for r in part],
                              "size": pa.array([int(r[2]) for r in part], pa.int64()),
                              "last_modified_date": pa.array([datetime(2026, 11, 30, 20, tzinfo=UTC)] * len(part),
                                                             pa.timestamp("ms", tz="UTC")),
                              "storage_class": [r[5] for r in part]})
            sink = io.BytesIO()
            pq.write_table(table, sink)
            files[f"inventory/{source}/daily/data/{number}.parquet"] = sink.getvalue()
    manifest = {"sourceBucket": source, "destinationBucket": f"arn:aws:s3:::{destination}", "version": "2016-11-30",
                "creationTimestamp": str(int(TAKEN.timestamp() * 1000)), "fileFormat": fmt,
                "fileSchema": ", ".join(fields) if fmt == "CSV" else "message s3.inventory { ... }",
                "files": [{"key": key, "size": len(body), "MD5checksum": "0"} for key, body in files.items()]}
    s3.seed(destination, {**files, f"{base}/manifest.json": json.dumps(manifest).encode()})
    return f"s3://{destination}/{base}/manifest.json"


@pytest.mark.parametrize("fmt", ["CSV", "Parquet"])
def test_find_from_an_inventory_lists_nothing_and_finds_what_a_listing_finds(s3, bucket, fmt):
    s3.seed(bucket, OBJECTS)
    manifest = publish(s3, bucket, OBJECTS, fmt=fmt)
    live = sorted(str(p) for p in find(f"s3://{bucket}/data", name="*.csv"))
    with s3.counting() as counts:
        found = find(f"s3://{bucket}/data", name="*.csv", inventory=manifest)
        from_inventory = sorted(str(p) for p in found)
    assert from_inventory == live == [f"s3://{bucket}/data/2026/a.csv", f"s3://{bucket}/data/2026/b.csv",
                                      f"s3://{bucket}/data/résumé 📊.csv"]
    assert found.inventory_time == TAKEN
    assert counts["ListObjectsV2"] == 0 and counts["GetObject"] == 3  # the manifest and two data files
    spaced = sorted(str(p) for p in find(f"s3://{bucket}", name="*space*", inventory=manifest))
    assert spaced == [f"s3://{bucket}/data/2026/notes +plus & space.txt"]  # "+" and " " decoded apart


def test_content_and_size_tests_read_only_the_candidates_and_list_nothing(s3, bucket):
    s3.seed(bucket, OBJECTS)
    report = read_inventory(publish(s3, bucket, OBJECTS))
    with s3.counting() as counts:
        hits = [str(p) for p in find(f"s3://{bucket}", contains="ERROR", larger=5, inventory=report)]
    assert sorted(hits) == [f"s3://{bucket}/data/2026/a.csv", f"s3://{bucket}/logs/today.log"]
    assert counts["ListObjectsV2"] == 0 and counts["GetObject"] == 2 + 4  # data files, then the 4 files over 5 B


def test_live_folders_are_listed_afresh_and_take_the_inventorys_place(s3, bucket):
    s3.seed(bucket, OBJECTS)
    manifest = publish(s3, bucket, OBJECTS)
    s3.seed(bucket, {"logs/later.log": b"ERROR after the inventory"})
    s3.server.backend.delete_object(bucket, "logs/today.log")
    with s3.counting() as counts:
        found = sorted(str(p) for p in find(f"s3://{bucket}", name="*.log", inventory=manifest,
                                            live=[f"s3://{bucket}/logs"]))
    assert found == [f"s3://{bucket}/logs/later.log"]  # the stale entry gone, the new key there
    assert counts["ListObjectsV2"] == 1  # the live folder only


def test_du_from_an_inventory_matches_a_listing_and_says_when_it_was_taken(s3, bucket):
    s3.seed(bucket, OBJECTS)
    manifest = publish(s3, bucket, OBJECTS)
    live = commands.du(f"s3://{bucket}/data")
    with s3.counting() as counts:
        usage = tfm_jupyter.du(f"s3://{bucket}/data", inventory=manifest)  # the top-level name
    assert (usage.bytes, usage.files, usage.directories) == (live.bytes, live.files, live.directories) == (
        sum(len(v) for k, v in OBJECTS.items() if k.startswith("data/")), 4, 2)
    assert counts["ListObjectsV2"] == 0 and "(the inventory of 2026-11-30 21:32 UTC)" in repr(usage)


def test_a_versioned_report_shows_current_objects_only(s3, bucket):
    fields = ["Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "LastModifiedDate"]
    rows = [[bucket, "k%2Fnow.txt", "v2", "true", "false", "3", "2026-11-30T20:00:00.000Z"],
            [bucket, "k%2Fnow.txt", "v1", "false", "false", "9", "2026-11-29T20:00:00.000Z"],
            [bucket, "k%2Fgone.txt", "v3", "true", "true", "", "2026-11-30T20:00:00.000Z"]]
    manifest = publish(s3, bucket, {}, fields=fields, extra_rows=rows)
    assert [(p.name) for p in find(f"s3://{bucket}/k", inventory=manifest)] == ["now.txt"]


def test_an_inventory_of_another_bucket_or_a_broken_manifest_says_so(s3, bucket):
    manifest = publish(s3, "some-other-bucket", {"a.csv": b"1"})
    with pytest.raises(ValueError, match="lists s3://some-other-bucket/"):
        list(find(f"s3://{bucket}", inventory=manifest))
    s3.seed(bucket, {"not-a-manifest.json": b"{}"})
    with pytest.raises(errors.StorageError, match="not an S3 Inventory manifest"):
        read_inventory(f"s3://{bucket}/not-a-manifest.json")
    with pytest.raises(FileNotFoundError):
        read_inventory(f"s3://{bucket}/missing/manifest.json")
    assert Path(manifest).exists()


def test_the_magics_answer_from_an_inventory_with_no_listing_and_no_probe(ip, s3, bucket):
    s3.seed(bucket, OBJECTS)
    manifest = publish(s3, bucket, OBJECTS)
    with s3.counting() as counts:
        found = ip.run_line_magic("s3find", f"--inventory {manifest} --name '*.csv' s3://{bucket}/data")
        usage = ip.run_line_magic("s3du", f"--inventory {manifest} s3://{bucket}/data")
    assert sorted(p.name for p in found) == ["a.csv", "b.csv", "résumé 📊.csv"]
    assert [entry.size for entry in sorted(found.entries, key=lambda e: e.name)] == [13, 1203, 2]
    assert "(from the inventory of 2026-11-30 21:32 UTC)" in repr(found) and usage.files == 4
    assert set(counts) == {"GetObject"}  # the manifest and the data files: no listing, no HEAD per file
    later = ip.run_line_magic("s3find", f"--inventory {manifest} --live s3://{bucket}/logs --name '*.log' "
                                        f"s3://{bucket}")
    assert [p.name for p in later] == ["today.log"] and later.inventory_time is not None
