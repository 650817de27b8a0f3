"""The browser's pane state without a browser (the same cases as the front end's tests)."""

import json
from pathlib import Path as FsPath

import pytest

from tfm_jupyter.browser.pane import PaneState, Row, visible_rows

FIXTURE = json.loads((FsPath(__file__).parent.parent / "js/test/fixtures/visible_rows.json").read_text("utf-8"))
ROWS = [Row.from_wire(item) for item in FIXTURE["rows"]]


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: json.dumps(c["options"]))
def test_visible_rows_match_the_shared_cases(case):
    assert [r.name for r in visible_rows(ROWS, **case["options"])] == case["expected"]


@pytest.mark.parametrize("case", FIXTURE["searches"], ids=lambda c: c["text"])
def test_incremental_search_matches_the_shared_cases(case):
    pane = PaneState(cwd="s3://b/")
    pane.add_rows(pane.start_listing("s3://b/"), ROWS, done=True)
    pane.focus = "data"
    assert pane.search(case["text"]) is (case["focus"] is not None)
    assert pane.focus == (case["focus"] or "data")


def loaded(rows=ROWS):
    pane = PaneState(cwd="s3://b/")
    pane.add_rows(pane.start_listing("s3://b/"), rows, done=True)
    return pane


def test_focus_moves_and_clamps():
    pane = loaded()
    assert pane.focus == "data"
    pane.move(3)
    assert pane.focus == "alpha.txt"
    pane.move(100)
    assert pane.focus == "ﬀ ligature" == pane.visible()[-1].name
    pane.home()
    assert pane.focus == "data"
    pane.move(-5)
    assert pane.focus == "data"
    pane.end()
    assert pane.focus_index() == len(pane.visible()) - 1


def test_space_toggles_and_advances_and_a_selects_all_or_none():
    pane = loaded()
    pane.toggle()
    pane.toggle()
    assert pane.selection == {"data", "Zeta"} and pane.focus == "Alpha.txt"
    pane.toggle()
    assert [r.name for r in pane.chosen()] == ["data", "Zeta", "Alpha.txt"]
    pane.select_all()
    assert pane.selection == {r.name for r in pane.visible()}
    pane.select_all()
    assert pane.selection == set()
    assert [r.name for r in pane.chosen()] == [pane.focus]


def test_summary_counts_selection_bytes():
    pane = loaded()
    pane.selection = {"beta.csv", "archive.tar.gz", "data"}
    assert pane.summary() == {"items": 9, "dirs": 2, "selected": 3, "selected_bytes": 600}


def test_pages_of_an_old_listing_are_ignored():
    pane = PaneState(cwd="s3://b/a")
    old = pane.start_listing("s3://b/a")
    new = pane.start_listing("s3://b/b")
    assert not pane.add_rows(old, [Row("stale", False)])
    assert pane.add_rows(new, [Row("fresh", False)], done=True)
    assert [r.name for r in pane.rows] == ["fresh"] and pane.complete


def test_state_round_trip_and_stale_state_is_ignored():
    pane = loaded()
    state = pane.to_state()
    state.update(focus="beta.csv", selection=["beta.csv"], sort="size", descending=True, pattern="*.csv")
    pane.apply_state(state)
    assert (pane.focus, pane.selection, pane.sort, pane.descending, pane.pattern) == (
        "beta.csv", {"beta.csv"}, "size", True, "*.csv")
    pane.apply_state(dict(state, listing=state["listing"] - 1, focus="data"))
    assert pane.focus == "beta.csv"
    pane.apply_state(dict(state, sort="bogus"))
    assert pane.sort == "size"


def test_a_wanted_focus_is_taken_as_soon_as_its_row_arrives():
    pane = PaneState(cwd="s3://b/")
    listing = pane.start_listing("s3://b/", focus="zz")
    pane.add_rows(listing, [Row("aa", False)])
    assert pane.focus == "aa"
    pane.add_rows(listing, [Row("zz", False)], done=True)
    assert pane.focus == "zz"
