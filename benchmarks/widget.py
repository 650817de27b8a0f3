"""Workload 9: the browser widget in headless chromium on a real JupyterLab.

For folders of 10,000 and 100,000 entries: the time from running the cell to the first rendered
rows, to the complete listing, and to the last row after End; and the time per PageDown while
scrolling.  Local folders feed the panes so the numbers measure the widget, not moto (whose
listing of 100,000 keys takes minutes); a cached S3 listing arrives the same way, in pages.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
SIZES = (10_000, 100_000)
PAGE_DOWNS = 20


def _folder(root: Path, count: int) -> Path:
    folder = root / f"entries-{count}"
    folder.mkdir()
    for index in range(count):
        (folder / f"file-{index:06d}.csv").touch()
    return folder


def _measure(page: object, lab: object, folder: Path, count: int, run: int) -> dict[str, float]:
    from lab import open_notebook
    from playwright.sync_api import expect

    name = lab.notebook(f"bench-{count}-{run}.ipynb",
                        f"import tfm_jupyter\nb = tfm_jupyter.browse({str(folder)!r}, {str(folder.parent)!r})\nb")
    left = page.locator(".tfm-pane[data-side=left]")
    started = time.perf_counter()
    open_notebook(page, lab, name)
    ran = time.perf_counter()
    expect(left.locator(".tfm-row").first).to_be_visible(timeout=120_000)
    first = time.perf_counter() - ran
    expect(left.locator(".tfm-status")).to_contain_text(f"{count:,} items · listed", timeout=300_000)
    complete = time.perf_counter() - ran
    page.locator(".tfm-browser").focus()
    began = time.perf_counter()
    page.keyboard.press("End")
    expect(left.locator(".tfm-focus .tfm-col-name")).to_have_text(f"file-{count - 1:06d}.csv", timeout=60_000)
    to_end = time.perf_counter() - began
    page.keyboard.press("Home")
    expect(left.locator(".tfm-focus .tfm-col-name")).to_have_text("file-000000.csv")
    began = time.perf_counter()
    for _ in range(PAGE_DOWNS):
        page.keyboard.press("PageDown")
    rows = left.locator(".tfm-row").count()
    page_size = max(1, 18 - 1)
    expect(left.locator(".tfm-focus .tfm-col-name")).to_have_text(
        f"file-{min(count - 1, PAGE_DOWNS * page_size):06d}.csv", timeout=60_000)
    per_page = (time.perf_counter() - began) / PAGE_DOWNS
    return {"open": ran - started, "first": first, "complete": complete, "end": to_end, "page": per_page,
            "rendered": rows}


def widget_benchmark(runs: int) -> list[str]:
    """Markdown lines for RESULTS.md (empty when chromium or playwright is missing)."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return ["Not measured: playwright is not installed (`pip install .[bench]`)."]
    if chromium is None:
        return ["Not measured: Debian's chromium is not installed (`make browser`)."]
    sys.path.insert(0, str(TESTS))
    from lab import CHROMIUM_ARGS, Lab

    workdir = Path(tempfile.mkdtemp(prefix="tfm-widget-bench-"))
    data = workdir / "data"
    data.mkdir()
    folders = {count: _folder(data, count) for count in SIZES}
    lab = Lab(workdir)
    results: dict[int, list[dict[str, float]]] = {count: [] for count in SIZES}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for count in SIZES:
                for run in range(runs):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    results[count].append(_measure(page, lab, folders[count], count, run))
                    page.close()
                    print(f"widget {count:,}: {results[count][-1]}")
            browser.close()
    finally:
        lab.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [f"Median of {runs} runs; a fresh page each run; rows rendered at once is the virtual list's window.",
             "", "| entries | first rows after the cell ran | complete listing | End: last row shown | per PageDown "
             "| rows in the page |", "|---|---|---|---|---|---|"]
    for count, measured in results.items():
        median = {key: statistics.median(m[key] for m in measured) for key in measured[0]}
        lines.append(f"| {count:,} | {median['first']:.2f} s | {median['complete']:.2f} s | "
                     f"{median['end'] * 1000:.0f} ms | {median['page'] * 1000:.0f} ms | {median['rendered']:.0f} |")
    return lines
