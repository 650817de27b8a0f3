"""What uses the storage below a folder: by sub-folder and storage class, with the monthly cost, from
one listing counted at the server."""

import pytest

from tfm_jupyter.s3.meter import configure_s3_prices
from tfm_jupyter.usage import usage

GIB = 2**30


@pytest.fixture
def prices():
    configure_s3_prices(storage_per_gb_month={"STANDARD": 0.02, "GLACIER": 0.004})
    yield
    configure_s3_prices(reset=True)


def test_usage_by_sub_folder_and_storage_class_from_one_listing(s3, bucket, prices):
    backend = s3.server.backend
    s3.seed(bucket, {"d/logs/a.log": b"x" * 3000, "d/logs/deep/b.log": b"y" * 1000, "d/top.txt": b"t" * 10,
                     "d/empty/": b""})
    backend.put_object(bucket, "d/archive/old.bin", b"z" * 5000, storage="GLACIER")
    backend.put_object(bucket, "d/archive/new.bin", b"n" * 500)
    with s3.counting() as counts:
        found = usage(f"s3://{bucket}/d")
    assert counts == {"ListObjectsV2": 1} and found.requests == 1
    assert [(f.name, f.bytes, f.files, f.by_class) for f in found.folders] == [
        ("archive", 5500, 2, {"GLACIER": 5000, "STANDARD": 500}),
        ("logs", 4000, 2, {"STANDARD": 4000}),
        ("", 10, 1, {"STANDARD": 10}),
    ]
    archive = found.folders[0]
    assert archive.monthly_cost == pytest.approx((5000 * 0.004 + 500 * 0.02) / GIB)
    assert found.bytes == 9510 and found.files == 5
    assert found.monthly_cost == pytest.approx(sum(f.monthly_cost for f in found.folders))
    assert found.to_state()["folders"][0]["name"] == "archive"


def test_a_local_folder_has_sizes_but_no_price_and_a_file_is_no_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.bin").write_bytes(b"1234")
    found = usage(tmp_path)
    assert [(f.name, f.bytes, f.by_class) for f in found.folders] == [("sub", 4, {"": 4})]
    assert found.monthly_cost is None  # the local disk has no price here
    with pytest.raises(NotADirectoryError):
        usage(tmp_path / "sub" / "x.bin")
    with pytest.raises(FileNotFoundError):
        usage(tmp_path / "nothing")


def test_usage_and_the_browsers_usage_view_from_an_inventory_list_nothing(s3, bucket, prices):
    from test_inventory import OBJECTS, publish
    from widget_driver import press

    from tfm_jupyter.browser import browse

    s3.seed(bucket, OBJECTS)
    manifest = publish(s3, bucket, OBJECTS)
    live = usage(f"s3://{bucket}/data")
    with s3.counting() as counts:
        counted = usage(f"s3://{bucket}/data", inventory=manifest)
    assert [(f.name, f.bytes, f.files) for f in counted.folders] == [(f.name, f.bytes, f.files) for f in live.folders]
    assert set(counts) == {"GetObject"} and f"{counted.inventory_time:%Y-%m-%d %H:%M}" == "2026-11-30 21:32"
    b = browse(f"s3://{bucket}/data", "s3://", inventories={f"s3://{bucket}": manifest})
    b.wait()
    with s3.counting() as counts:
        press(b, "usage")
    shown = b.preview["usage"]
    assert set(counts) <= {"GetObject"}  # the report (read above, so cached), never a listing of the bucket
    assert shown["inventory_time"] == "2026-11-30 21:32 UTC" and shown["files"] == usage(shown["root"]).files
