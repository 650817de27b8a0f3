"""Azure Blob Storage and Google Cloud Storage against their emulators (npm's Azurite, fake-gcs-server):
zero configuration, what each does best, requests counted at Azurite, cross-cloud copies in every
direction judged with the official SDKs directly, errors, links, and the data tools."""

import logging
import urllib.request
import uuid

import pandas as pd
import pytest

from tfm_jupyter import Path, configure_storage, errors, filesystem, sync

TREE = {"a.csv": b"x,y\n1,2\n", "sub/b.txt": b"beta", "sub/deep/c.txt": b"gamma"}


def put_tree(root):
    for name, data in TREE.items():
        root.backend.write_bytes(root / name, data)


def truth(root):
    """What the emulator holds below ``root``, read with the SDK, not through our backend."""
    prefix = root.dir_prefix
    if root.scheme == "az":
        container = root.backend.service(root.authority).get_container_client(root.authority)
        return {b.name[len(prefix):]: container.download_blob(b.name).readall()
                for b in container.list_blobs(name_starts_with=prefix or None) if not b.name.endswith("/")}
    listed = root.backend.client(root.authority).list_blobs(root.authority, prefix=prefix or None)
    return {b.name[len(prefix):]: b.download_as_bytes() for b in listed if not b.name.endswith("/")}


@pytest.fixture(params=["az", "gs"])
def cloud(request):
    return request.getfixturevalue(f"{request.param}_root")


# -- zero configuration --------------------------------------------------------------------------------


def test_azure_needs_nothing_but_its_connection_string_variable(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    root = Path(f"az://zero-{uuid.uuid4().hex[:8]}/")
    root.mkdir()
    (root / "hello.txt").write_text("from the environment")
    assert (root / "hello.txt").read_text() == "from the environment"
    assert root.authority in [p.authority for p in Path("az://").iterdir()]  # the containers, at the root


def test_gcs_needs_nothing_but_the_emulator_variable(fake_gcs):
    root = Path(f"gs://zero-{uuid.uuid4().hex[:8]}/")
    root.mkdir()
    (root / "hello.txt").write_text("from STORAGE_EMULATOR_HOST")
    assert (root / "hello.txt").read_text() == "from STORAGE_EMULATOR_HOST"
    assert root.authority in [p.authority for p in Path("gs://").iterdir()]


def test_abfs_is_read_as_az(az_root):
    put_tree(az_root)
    assert Path(f"abfs://{az_root.authority}/a.csv").read_bytes() == TREE["a.csv"]


# -- what each does best, counted ------------------------------------------------------------------------


def test_an_azure_listing_is_one_request_and_a_copy_stays_on_the_server(azurite, az_root):
    put_tree(az_root)
    azurite.mark()
    assert sorted(p.name for p in az_root.iterdir()) == ["a.csv", "sub"]
    assert azurite.requests() == {"GET container list": 1}
    azurite.mark()
    (az_root / "sub").copy(az_root / "copied")
    seen = azurite.requests()
    assert seen["GET container list"] == 1 and not seen["GET"]  # one flat listing; no blob came here
    assert sum(count for kind, count in seen.items() if kind == "PUT") == 2  # two Copy Blob
    assert truth(az_root)["copied/deep/c.txt"] == b"gamma"


def test_a_gcs_copy_is_a_rewrite_on_the_server(fake_gcs, gs_root):
    put_tree(gs_root)
    fake_gcs.mark()
    (gs_root / "sub").copy(gs_root / "copied")
    used = fake_gcs.requests()
    assert used["Rewrite"] == 2 and not used["Download"] and used["List"] == 1
    assert truth(gs_root)["copied/sub/b.txt".replace("sub/", "", 1)] == b"beta"


def test_a_fresh_gcs_client_reads_in_one_request_and_asks_nothing_in_the_background(fake_gcs, gs_root):
    (gs_root / "a.csv").write_bytes(TREE["a.csv"])
    configure_storage("gs://", endpoint_url=fake_gcs.url, project="fresh")  # a new client, never used
    fake_gcs.mark()
    assert (gs_root / "a.csv").read_bytes() == TREE["a.csv"]
    assert sorted(p.name for p in gs_root.iterdir()) == ["a.csv"]
    assert fake_gcs.requests() == {"Download": 1, "List": 1}  # no bucket lookup for tracing labels


def test_copying_one_file_costs_one_flat_listing_a_target_check_and_the_server_copy(
        azurite, az_root, fake_gcs, gs_root):
    for root in (az_root, gs_root):
        put_tree(root)
        root.backend.forget(root)
    azurite.mark()
    (az_root / "a.csv").copy(az_root / "b.csv")
    assert azurite.requests() == {"GET container list": 2, "PUT": 1}
    fake_gcs.mark()
    (gs_root / "a.csv").copy(gs_root / "b.csv")
    assert fake_gcs.requests() == {"List": 2, "Rewrite": 1}
    assert truth(az_root)["b.csv"] == truth(gs_root)["b.csv"] == TREE["a.csv"]


def test_ranged_reads_and_whole_reads(cloud):
    data = bytes(range(256)) * 4096  # 1 MiB
    cloud.backend.write_bytes(cloud / "blob.bin", data)
    assert cloud.backend.read_range(cloud / "blob.bin", 1000, 1010) == data[1000:1010]
    with (cloud / "blob.bin").open("rb") as handle:
        handle.seek(500_000)
        assert handle.read(100) == data[500_000:500_100]
    assert (cloud / "blob.bin").read_bytes() == data


def test_big_files_go_in_blocks_and_arrive_whole(cloud):
    big = bytes(range(256)) * (40 * 4096)  # 40 MiB: blocks of 8 MiB (Azure), a resumable upload (GCS)
    (cloud / "big.bin").backend.write_bytes(cloud / "big.bin", big)
    assert truth(cloud)["big.bin"] == big


# -- across clouds, in every direction ----------------------------------------------------------------


def test_copy_move_and_sync_across_clouds_and_s3_and_local(az_root, gs_root, s3, bucket, tmp_path):
    s3_root = Path(f"s3://{bucket}/")
    put_tree(az_root / "src")
    (az_root / "src").copy(gs_root / "from-az")
    assert truth(gs_root) == {f"from-az/{k}": v for k, v in TREE.items()}
    (gs_root / "from-az").move(s3_root / "from-gs")
    assert {k: s3.body(bucket, k) for k in s3.keys(bucket)} == {f"from-gs/{k}": v for k, v in TREE.items()}
    assert truth(gs_root) == {}
    (s3_root / "from-gs").copy(az_root / "back")
    (az_root / "back").copy(tmp_path / "local")
    assert {p.relative_to(tmp_path / "local").as_posix(): p.read_bytes()
            for p in (tmp_path / "local").rglob("*") if p.is_file()} == TREE
    first, again = sync(tmp_path / "local", gs_root / "synced"), sync(tmp_path / "local", gs_root / "synced")
    assert len(first.copied) == 3 and again.copied == []
    first, again = sync(gs_root / "synced", az_root / "synced"), sync(gs_root / "synced", az_root / "synced")
    assert len(first.copied) == 3 and again.copied == []


# -- errors, links, data tools ----------------------------------------------------------------------------


def test_a_missing_container_or_bucket_says_so(azurite, fake_gcs):
    configure_storage("az://", connection_string=azurite.connection_string)
    for uri in ("az://no-such-container-here/x.txt", "gs://no-such-bucket-here/x.txt"):
        with pytest.raises(FileNotFoundError):
            Path(uri).read_bytes()
        assert not Path(uri).exists() and not Path(uri).parent.exists()


def test_wrong_azure_credentials_are_a_permission_error_without_the_key(azurite, caplog):
    wrong = "bm90LXRoZS1rZXktYnV0LWEtdmFsaWQtYmFzZTY0LXN0cmluZy0wMTIzNDU2Nzg5YWJj"
    configure_storage("az://", connection_string=azurite.connection_string.replace(
        azurite.connection_string.split("AccountKey=")[1].split(";")[0], wrong))
    with caplog.at_level(logging.DEBUG), pytest.raises(PermissionError) as info:
        Path(f"az://c-{uuid.uuid4().hex[:8]}/").mkdir()
    assert wrong not in str(info.value) and wrong not in repr(info.value) and wrong not in caplog.text


def test_presign_gives_an_azure_sas_link_that_reads_the_blob(az_root):
    (az_root / "shared.txt").write_text("shared by a link")
    url = (az_root / "shared.txt").presign(expires=300)
    assert "sig=" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"shared by a link"


def test_the_fsspec_filesystems_and_pandas(cloud):
    put_tree(cloud)
    fs = filesystem(cloud.scheme)
    base = f"{cloud.authority}/{cloud.key}".rstrip("/")
    assert sorted(fs.find(base)) == [f"{base}/{k}" for k in sorted(TREE)]
    assert fs.cat_file(f"{base}/sub/b.txt") == b"beta"
    with (cloud / "a.csv").open("rb") as handle:
        assert pd.read_csv(handle).to_dict("list") == {"x": [1], "y": [2]}
    with (cloud / "out.csv").open("w") as handle:
        pd.DataFrame({"n": [1, 2]}).to_csv(handle, index=False)
    assert truth(cloud)["out.csv"] == b"n\n1\n2\n"


def test_the_meter_prices_each_cloud(cloud):
    from tfm_jupyter import meter

    start = meter.reading()
    put_tree(cloud)
    list(cloud.iterdir())
    used = meter.reading() - start
    label = "Azure Blob" if cloud.scheme == "az" else "GCS"
    assert used.by_backend()[label] >= 4 and used.cost > 0
    with pytest.raises(errors.UnsupportedOperation):
        Path("memory://x/y").presign()


def test_sql_reads_each_cloud_through_us(cloud):
    from tfm_jupyter import sql

    put_tree(cloud)
    before = cloud.backend.request_counts()
    frame = sql(f"SELECT x + y AS total FROM read_csv('{cloud / 'a.csv'}')")
    assert frame.to_dict("list") == {"total": [3]}
    assert sum((cloud.backend.request_counts() - before).values()) >= 1  # our backend's requests, counted
