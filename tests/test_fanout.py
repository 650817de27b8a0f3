"""Big trees are listed as two key ranges side by side: every key exactly once, at most one request
more than the flat chain wherever the cut falls, and both ranges in flight together, counted and held
at the server (the layouts and targets of issue 28)."""

import threading

import pytest
from faults import Fault, Gate, faults

from conftest import only
from tfm_jupyter import Path, clear_s3_cache
from tfm_jupyter.s3.entries import tree_from_pages
from tfm_jupyter.s3.fanout import choose_cut, tree_pages
from tfm_jupyter.s3.stores import get_store

LAYOUTS = {  # name: (keys below "big/", the most ListObjectsV2 the issue allows)
    "10,000 keys in 20 folders of 500": ([f"f{f:02d}/k{i:03d}" for f in range(20) for i in range(500)], 12),
    "3,000 keys in 6 folders of 500": ([f"f{f}/k{i:03d}" for f in range(6) for i in range(500)], 4),
    "30,000 flat keys": ([f"k-{i:06d}" for i in range(30_000)], 31),
    "uneven: 9,000 + 19 x 50": ([f"f00/k{i:04d}" for i in range(9000)]
                                + [f"f{f:02d}/k{i:02d}" for f in range(1, 20) for i in range(50)], 11),
}


# The second page of the range after page 1, or the first of the range after the cut (f04~ or k-004~).
CUT_OR_GOING_ON = r"continuation-token=|start-after=big%2F(f04|k-004)~(&|$)"


def seed(s3, bucket, names):
    s3.seed(bucket, {f"big/{name}": b"x" for name in names} | {"big-sibling/k": b"s", "bif/k": b"s"})
    return sorted(f"big/{name}" for name in names)


def flat_tree(bucket, prefix):
    client = get_store().store_for(bucket).client
    return tree_from_pages(prefix, client.paginate("list_objects_v2", Bucket=bucket, Prefix=prefix))


@pytest.mark.parametrize("layout", ["3,000 keys in 6 folders of 500", "uneven: 9,000 + 19 x 50"])
def test_a_big_tree_is_listed_in_two_ranges_with_every_key_once(s3, bucket, layout):
    names, most = LAYOUTS[layout]
    keys = seed(s3, bucket, names)
    expected = flat_tree(bucket, "big/")
    with s3.counting() as counts:
        tree = get_store().tree(bucket, "big/")
    assert tree == expected
    assert set(counts) == {"ListObjectsV2"} and counts["ListObjectsV2"] <= min(most, -(-len(keys) // 1000) + 1)
    found = [str(p) for p in Path(f"s3://{bucket}/big").rglob("*") if p.is_file()]
    assert sorted(found) == [f"s3://{bucket}/{k}" for k in keys]  # each key once


@pytest.mark.parametrize("layout", ["10,000 keys in 20 folders of 500", "30,000 flat keys"])
def test_both_ranges_are_in_flight_together(s3, bucket, layout):
    names, most = LAYOUTS[layout]
    seed(s3, bucket, names)
    gate, result = Gate(), {}
    with s3.counting() as counts, faults(s3, Fault(operation="ListObjectsV2", query=CUT_OR_GOING_ON, hold=gate)):
        worker = threading.Thread(target=lambda: result.update(tree=get_store().tree(bucket, "big/")))
        worker.start()
        assert gate.arrived(2, timeout=30)  # the range after page 1 (its second page) and the range after the cut
        gate.release()
        worker.join(120)
    assert set(counts) == {"ListObjectsV2"} and counts["ListObjectsV2"] <= min(most, len(names) // 1000 + 1)
    assert result["tree"] == flat_tree(bucket, "big/")
    assert sum(len(listing.children) for listing in result["tree"].values()) == len(names) + 20 * ("folders" in layout)


def test_a_cached_listing_of_the_folders_places_the_cut_at_the_middle_folder(s3, bucket):
    names = [f"day={d:02d}/part-{i:03d}" for d in range(1, 31) for i in range(100)]
    seed(s3, bucket, names)
    assert len(list(Path(f"s3://{bucket}/big").iterdir())) == 30  # one delimiter listing, cached
    with s3.counting() as counts:
        tree = get_store().tree(bucket, "big/")
    assert tree == flat_tree(bucket, "big/") and counts["ListObjectsV2"] <= 4
    folders = get_store().store_for(bucket).known_folders(bucket, "big/")
    assert choose_cut("big/", [f"big/{n}" for n in names[:1000]], folders) == "big/day=20~"  # just below day=21


def test_cuts_from_the_first_page():
    flat = [f"p/k-{i:06d}" for i in range(1000)]
    assert choose_cut("p/", flat) == "p/k-004~"  # the last key ends at 9: the digit before is split
    one_folder = [f"p/folder-00/key-{i:06d}" for i in range(0, 20_000, 20)]
    assert choose_cut("p/", one_folder) == "p/folder-04~"  # the folders' names, not the folder's keys
    assert choose_cut("p/", [f"p/f{f:02d}/k{i}" for f in range(2) for i in range(500)]) == "p/f04~"
    assert choose_cut("p/", ["p/a-~", "p/b-~"]) == "p/m~"
    assert choose_cut("p/", ["p/~~", "p/~~~"]) is None  # nothing to split after: the flat chain


def test_a_consumer_that_stops_early_stops_both_ranges(s3, bucket):
    seed(s3, bucket, [f"k-{i:06d}" for i in range(10_000)])
    client = get_store().store_for(bucket).client
    with s3.counting() as counts:
        pages = tree_pages(client, bucket, "big/")
        taken = [next(pages), next(pages)]
        pages.close()  # the threads stop at their next page
    assert len(taken[0]["Contents"]) == 1000 and counts["ListObjectsV2"] <= 4  # not the 11 of the whole


def test_a_copy_plans_from_the_two_ranges(s3, bucket):
    keys = seed(s3, bucket, LAYOUTS["3,000 keys in 6 folders of 500"][0])
    clear_s3_cache()
    with s3.counting() as counts:
        Path(f"s3://{bucket}/big").copy(Path(f"s3://{bucket}/copy"), progress=False)
    assert counts["ListObjectsV2"] <= 4 and counts["CopyObject"] == len(keys)
    assert sorted(s3.keys(bucket, "copy/")) == sorted("copy/" + k[len("big/"):] for k in keys)


def test_a_small_tree_stays_one_request(s3, bucket):
    s3.seed(bucket, {f"small/f{f}/k{i}": b"x" for f in range(3) for i in range(100)})
    with s3.counting() as counts:
        get_store().tree(bucket, "small/")
    assert only(counts, ListObjectsV2=1)
