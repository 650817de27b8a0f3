"""Big trees are listed folder by folder in parallel: every key exactly once, at most one request per
sub-folder (and one delimiter listing) more than the flat chain, and the folders' listings in flight
together, counted and held at the server."""

import threading

from faults import Fault, Gate, faults

from conftest import only
from tfm_jupyter import Path, clear_s3_cache, find
from tfm_jupyter.s3.entries import tree_from_pages
from tfm_jupyter.s3.stores import get_store

FOLDERS, PER_FOLDER = 5, 500


def seed(s3, bucket):
    keys = {f"big/f{f}/k{i:04d}": b"x" for f in range(FOLDERS) for i in range(PER_FOLDER)}
    keys.update({f"big/top-{i}.txt": b"t" for i in range(10)})
    keys.update({"big/f0/": b"", "big/f2/deep/er/x.bin": b"deep", "big-sibling/k": b"s"})
    s3.seed(bucket, keys)
    return sorted(k for k in keys if k.startswith("big/"))


def flat_tree(bucket, prefix):
    client = get_store().store_for(bucket).client
    return tree_from_pages(prefix, client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix))


def test_a_big_tree_is_listed_folder_by_folder_with_every_key_once(s3, bucket):
    keys = seed(s3, bucket)
    expected = flat_tree(bucket, "big/")
    with s3.counting() as counts:
        tree = get_store().tree(bucket, "big/")
    assert tree == expected
    flat_requests = -(-len(keys) // 1000)
    # page 1, the delimiter listing, then f1 (after page 1's last key), f2, f3 and f4 on their own
    assert only(counts, ListObjectsV2=6) and counts["ListObjectsV2"] <= flat_requests + FOLDERS + 1
    found = sorted(str(p) for p in Path(f"s3://{bucket}/big").rglob("*") if p.is_file())
    assert found == sorted(f"s3://{bucket}/{k}" for k in keys if not k.endswith("/"))  # each key once
    walked = [(str(d), files) for d, _, files in Path(f"s3://{bucket}/big").walk()]
    assert walked[0] == (f"s3://{bucket}/big", [f"top-{i}.txt" for i in range(10)])
    assert len(list(find(f"s3://{bucket}/big", name="k04*"))) == FOLDERS * 100


def test_a_small_tree_stays_one_request(s3, bucket):
    s3.seed(bucket, {f"small/f{f}/k{i}": b"x" for f in range(3) for i in range(100)})
    with s3.counting() as counts:
        get_store().tree(bucket, "small/")
    assert only(counts, ListObjectsV2=1)


def test_the_folders_are_listed_at_the_same_time(s3, bucket):
    seed(s3, bucket)
    gate = Gate()
    result = {}
    with faults(s3, Fault(operation="ListObjectsV2", query=r"prefix=big%2Ff[2-4]", hold=gate)):
        worker = threading.Thread(target=lambda: result.update(tree=get_store().tree(bucket, "big/")))
        worker.start()
        assert gate.arrived(3, timeout=30)  # f2, f3 and f4 in flight together
        gate.release()
        worker.join(60)
    assert result["tree"] == flat_tree(bucket, "big/")


def test_a_copy_plans_from_the_parallel_listing(s3, bucket):
    keys = seed(s3, bucket)
    clear_s3_cache()
    with s3.counting() as counts:
        Path(f"s3://{bucket}/big").copy(Path(f"s3://{bucket}/copy"), progress=False)
    assert counts["ListObjectsV2"] <= -(-len(keys) // 1000) + FOLDERS + 1
    assert counts["CopyObject"] == len(keys)
    assert sorted(s3.keys(bucket, "copy/")) == sorted("copy/" + k[len("big/"):] for k in keys)
