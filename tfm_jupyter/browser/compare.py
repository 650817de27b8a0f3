"""The browser's compare (``=``) and synchronize (``+``) of its two panes.

Compare lists both folders recursively (from the cache when it is fresh) and marks each row of
each pane: ``only`` (nothing of that name on the other side), ``newer`` (a same-size file modified
later than its twin), ``differs`` (another size, or a folder with any difference below it).
Synchronize lists both afresh, shows the plan in both directions, and runs
:func:`tfm_jupyter.sync` as a job with progress and cancel.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import errors
from ..cancel import cancel_scope
from ..synchronize import Files, compare_files, list_files, seconds, sync
from ..units import human_size, plural

__all__ = ["compare_panes", "pane_marks", "synchronize_panes"]

DIRECTIONS = {"Left → right": ("left", "right"), "Right → left": ("right", "left")}
DELETE_LABEL = " also delete what the source lacks (after every copy)"


def pane_marks(left: Files, right: Files) -> tuple[dict[str, str], dict[str, str], Counter[str]]:
    """Each pane's marks by top-level name, and counts of the differing files."""
    marks: dict[str, dict[str, str]] = {"left": {}, "right": {}}
    counts: Counter[str] = Counter()
    tops = {"left": {parts[0] for parts in left}, "right": {parts[0] for parts in right}}
    for parts in sorted(set(left) | set(right)):
        mine, theirs = left.get(parts), right.get(parts)
        if mine is None or theirs is None:
            side = "left" if theirs is None else "right"
            counts[f"only {side}"] += 1
            here, there = side, "right" if side == "left" else "left"
            _mark(marks[here], parts[0], "only" if parts[0] not in tops[there] else "differs")
            if parts[0] in tops[there]:
                _mark(marks[there], parts[0], "differs")
            continue
        if mine.size != theirs.size:
            counts["differ in size"] += 1
            status = {"left": "differs", "right": "differs"}
        elif seconds(mine) != seconds(theirs):
            newer = "left" if seconds(mine) > seconds(theirs) else "right"
            counts[f"newer {newer}"] += 1
            status = {newer: "newer"}
        else:
            continue
        for side, mark in status.items():
            _mark(marks[side], parts[0], mark if len(parts) == 1 else "differs")
        if len(parts) > 1:
            for side in ("left", "right"):
                _mark(marks[side], parts[0], "differs")
    return marks["left"], marks["right"], counts


_RANK = {"newer": 1, "differs": 2, "only": 3}


def _mark(marks: dict[str, str], name: str, mark: str) -> None:
    if _RANK[mark] > _RANK.get(marks.get(name, ""), 0):
        marks[name] = mark


def _roots(browser: Any) -> tuple[Any, Any]:
    left, right = browser.pane("left").cwd, browser.pane("right").cwd
    for root in (left, right):
        if root.is_listing_root:
            raise ValueError("a pane shows the bucket list: open a bucket there first")
    if str(left) == str(right):
        raise ValueError("both panes show the same folder")
    return left, right


def compare_panes(runner: Any, side: str) -> None:
    """Mark what differs between the two panes (recursive, in the background)."""
    browser = runner.browser
    left, right = _roots(browser)
    browser.job = {"id": 1, "title": f"Comparing {left} with {right}", "running": False}
    left_marks, right_marks, counts = pane_marks(list_files(left), list_files(right))
    summary = ", ".join(f"{count} {what}" for what, count in sorted(counts.items())) or "the panes hold the same files"
    browser.compare = {"left": {"cwd": str(left), "marks": left_marks},
                       "right": {"cwd": str(right), "marks": right_marks}, "summary": summary}
    browser.notify(f"compared: {summary}")


def _plan_text(name: str, plan: Any) -> str:
    copies = f"copy {plural(len(plan.copies), 'file')} ({human_size(sum(i.size for i in plan.copies))})"
    return f"{name}: {copies}; with delete, also delete {plural(len(plan.extra), 'file')}"


def synchronize_panes(runner: Any, side: str) -> None:
    """Show the plan in both directions, then sync the chosen way as a job."""
    browser = runner.browser
    roots = dict(zip(("left", "right"), _roots(browser), strict=True))
    with cancel_scope(runner.cancel_event):
        files = {name: list_files(root, fresh=True) for name, root in roots.items()}
    plans = {button: compare_files(roots[a], roots[b], files[a], files[b]) for button, (a, b) in DIRECTIONS.items()}
    message = "\n".join([f"left:  {roots['left']}", f"right: {roots['right']}",
                         *(_plan_text(button, plan) for button, plan in plans.items())])
    answer = browser.ask("Synchronize the panes", message, (*DIRECTIONS, "Cancel"), kind="sync",
                         checkbox=DELETE_LABEL, default="Cancel")
    if answer["button"] not in DIRECTIONS:
        return
    source, target = (roots[name] for name in DIRECTIONS[answer["button"]])
    plan, delete = plans[answer["button"]], bool(answer["apply_all"])
    progress = runner.progress(f"Synchronizing {source} → {target}", sum(i.size for i in plan.copies),
                               len(plan.copies))
    try:
        report = sync(source, target, delete=delete, progress=progress.for_item(), cancel=runner.cancel_event)
    except errors.SyncError as exc:
        report = exc.report
        browser.notify(f"{report.summary()}: first failure {report.failed[0].path}: {report.failed[0].error}",
                       "error")
    else:
        browser.notify(report.summary())
    finally:
        progress.finish()
        browser.compare = {}
        for name in ("left", "right"):
            browser.navigate(name, roots[name], browser.pane(name).focus)
