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


def loaded(rows=ROWS):
    pane = PaneState(cwd="s3://b/")
    pane.add_rows(pane.start_listing("s3://b/"), rows, done=True)
    return pane


def test_actions_apply_to_the_selection_in_view_order_or_else_the_focus():
    pane = loaded()
    assert pane.focus == "data" and [r.name for r in pane.chosen()] == ["data"]
    pane.apply_state({"listing": pane.listing, "selection": ["Alpha.txt", "Zeta", "data"]})
    assert [r.name for r in pane.chosen()] == ["data", "Zeta", "Alpha.txt"]
    pane.apply_state({"listing": pane.listing, "selection": ["Alpha.txt"], "pattern": "*.csv"})
    assert [r.name for r in pane.chosen()] == ["Alpha.txt"]  # selected, though filtered out of view
    pane.apply_state({"listing": pane.listing, "selection": []})
    assert [r.name for r in pane.chosen()] == ["data"]


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
