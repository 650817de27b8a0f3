"""The browser widget in a real browser: headless Debian chromium (Playwright) on a real JupyterLab.

JupyterLab is started by the test with the S3 server's environment, so its kernels talk to the same
moto server the assertions read.  Screenshots of the main states go to ``test-results/screenshots``
(``TFM_UPDATE_SCREENSHOTS=1`` writes them to ``docs/`` instead).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path as FsPath

import pytest
from lab import CHROMIUM_ARGS, Lab, open_notebook

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

REPO = FsPath(__file__).resolve().parent.parent
SHOTS = REPO / ("docs" if os.environ.get("TFM_UPDATE_SCREENSHOTS") else "test-results/screenshots")
XSS = "<img src=x onerror=alert(1)>.txt"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.alerts = []
    page.on("dialog", lambda dialog: (page.alerts.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def open_browser_notebook(page, lab, name, ui="lab"):
    """Open a notebook, run it, wait until both panes are listed; returns the widget's root."""
    open_notebook(page, lab, name, ui)
    root = page.locator(".tfm-browser")
    expect(root).to_be_visible(timeout=60_000)
    for side in ("left", "right"):  # both listings arrived, as a user would wait to see them
        expect(pane(page, side).locator(".tfm-status")).to_contain_text("listed", timeout=30_000)
    return root


def pane(page, side):
    return page.locator(f".tfm-pane[data-side={side}]")


def names(page, side):
    return pane(page, side).locator(".tfm-row .tfm-col-name")


def focused(page, side):
    return pane(page, side).locator(".tfm-focus .tfm-col-name")


def active_cell(page):
    return page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex")


def shot(locator, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SHOTS / name))


@pytest.fixture
def demo_tree(s3, bucket):
    s3.seed(bucket, {"left/data/one.csv": b"a,b\n1,2\n", "left/data/two.csv": b"c\n", "left/notes.txt": b"hello\n",
                     "left/report.csv": b"r,s\n", "left/readme.md": b"# readme\n", "right/report.csv": b"old\n",
                     f"left/{XSS}": b"not a script\n"})
    return bucket


def browser_cell(bucket):
    return (f"import tfm_jupyter\nb = tfm_jupyter.browse('s3://{bucket}/left', 's3://{bucket}/right')\nb")


def test_renders_and_is_driven_by_the_keyboard_without_moving_cells(page, lab, demo_tree):
    root = open_browser_notebook(page, lab, lab.notebook("keys.ipynb", browser_cell(demo_tree), "x = 1", "y = 2"))
    expect(names(page, "left")).to_have_text(["data/", XSS, "notes.txt", "readme.md", "report.csv"])
    expect(names(page, "right")).to_have_text(["report.csv"])
    expect(pane(page, "left").locator(".tfm-path")).to_have_value(f"s3://{demo_tree}/left")
    root.focus()
    cell = active_cell(page)
    expect(focused(page, "left")).to_have_text("data/")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(focused(page, "left")).to_have_text("notes.txt")
    page.keyboard.press("End")
    expect(focused(page, "left")).to_have_text("report.csv")
    page.keyboard.press("Home")
    expect(focused(page, "left")).to_have_text("data/")
    assert active_cell(page) == cell  # the arrows never reached the notebook
    page.keyboard.press("Enter")
    expect(names(page, "left")).to_have_text(["one.csv", "two.csv"])
    page.keyboard.press("Backspace")
    expect(focused(page, "left")).to_have_text("data/")
    page.keyboard.press("Tab")
    expect(pane(page, "right")).to_have_class("tfm-pane tfm-active")
    page.keyboard.press("Tab")
    page.keyboard.press("End")
    page.keyboard.press("Space")  # selects report.csv; the last row cannot move further down
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")
    expect(pane(page, "left").locator(".tfm-selected .tfm-col-name")).to_have_text(["readme.md", "report.csv"])
    expect(pane(page, "left").locator(".tfm-status")).to_contain_text("2 selected (13 B)")
    selected = page.evaluate("""async () => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        let text = '';
        const future = kernel.requestExecute({code: 'print([str(p) for p in b.selected])'});
        future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
        await future.done;
        return text;
    }""")
    assert selected.strip() == str([f"s3://{demo_tree}/left/readme.md", f"s3://{demo_tree}/left/report.csv"])
    page.keyboard.press("a")
    expect(pane(page, "left").locator(".tfm-selected")).to_have_count(5)
    page.keyboard.press("a")
    expect(pane(page, "left").locator(".tfm-selected")).to_have_count(0)
    page.keyboard.press("?")
    expect(page.locator(".tfm-help")).to_be_visible()
    assert page.locator(".tfm-help").evaluate("el => el.scrollHeight <= el.clientHeight")  # it fits, no scrolling
    shot(root, "browser-help.png")
    page.keyboard.press("Escape")
    expect(page.locator(".tfm-help")).to_be_hidden()
    assert active_cell(page) == cell


def test_filter_search_sort_and_hidden(page, lab, demo_tree, s3):
    s3.seed(demo_tree, {"left/.hidden.csv": b"h"})
    root = open_browser_notebook(page, lab, lab.notebook("filter.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("/")
    page.keyboard.type("*.csv")
    page.keyboard.press("Enter")
    expect(names(page, "left")).to_have_text(["data/", "report.csv"])
    page.keyboard.press(".")
    expect(names(page, "left")).to_have_text(["data/", ".hidden.csv", "report.csv"])
    page.keyboard.press("Escape")  # clears the filter
    expect(names(page, "left")).to_have_count(6)
    page.keyboard.press("f")
    page.keyboard.type("read")
    expect(focused(page, "left")).to_have_text("readme.md")
    page.keyboard.press("Enter")
    page.keyboard.press("s")  # sort by extension
    expect(names(page, "left").nth(1)).to_have_text(".hidden.csv")
    pane(page, "left").locator(".tfm-header .tfm-col-size").click()
    expect(names(page, "left")).to_have_text(["data/", ".hidden.csv", "report.csv", "notes.txt", "readme.md", XSS])
    pane(page, "left").locator(".tfm-header .tfm-col-size").click()  # again: descending
    expect(names(page, "left")).to_have_text(["data/", XSS, "readme.md", "notes.txt", "report.csv", ".hidden.csv"])


def test_copy_conflict_rename_delete_mkdir_newfile(page, lab, demo_tree, s3):
    root = open_browser_notebook(page, lab, lab.notebook("ops.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("End")  # report.csv, which also exists on the right
    page.keyboard.press("ArrowUp")  # readme.md
    page.keyboard.press("c")
    dialog = page.locator(".tfm-dialog")
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Copy 1 item?")
    shot(root, "browser-copy-confirm.png")
    dialog.get_by_role("button", name="Copy").click()
    expect(names(page, "right")).to_have_text(["readme.md", "report.csv"])
    assert s3.body(demo_tree, "right/readme.md") == b"# readme\n"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("c")
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("report.csv already exists")
    expect(dialog.get_by_role("button")).to_have_text(["Overwrite", "Skip", "Rename", "Cancel"])
    shot(root, "browser-conflict.png")
    dialog.get_by_role("button", name="Rename").click()
    expect(names(page, "right")).to_have_text(["readme.md", "report (1).csv", "report.csv"])
    assert s3.body(demo_tree, "right/report.csv") == b"old\n"
    page.keyboard.press("k")
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Delete 1 item?")
    dialog.get_by_role("button", name="Delete").click()
    expect(names(page, "left")).to_have_text(["data/", XSS, "notes.txt", "readme.md"])
    assert "left/report.csv" not in s3.keys(demo_tree)
    expect(focused(page, "left")).to_have_text("readme.md")  # the cursor has left the deleted row
    page.keyboard.press("r")
    prompt = dialog.locator(".tfm-dialog-input")
    expect(prompt).to_have_value("readme.md")
    prompt.fill("README.md")
    prompt.press("Enter")
    expect(names(page, "left")).to_contain_text(["README.md"])
    page.keyboard.press("n")
    dialog.locator(".tfm-dialog-input").fill("fresh")
    dialog.locator(".tfm-dialog-input").press("Enter")
    expect(names(page, "left").first).to_have_text("data/")
    expect(names(page, "left")).to_contain_text(["fresh/"])
    page.keyboard.press("e")
    dialog.locator(".tfm-dialog-input").fill("empty.txt")
    dialog.locator(".tfm-dialog-input").press("Enter")
    expect(names(page, "left")).to_contain_text(["empty.txt"])
    assert {"left/fresh/", "left/empty.txt", "left/README.md"} <= set(s3.keys(demo_tree))
    page.keyboard.press("Escape")


def test_move_with_progress_and_refresh(page, lab, demo_tree, s3):
    root = open_browser_notebook(page, lab, lab.notebook("move.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("Space")  # select data/
    page.keyboard.press("m")
    page.locator(".tfm-dialog").get_by_role("button", name="Move").click()
    expect(names(page, "right")).to_have_text(["data/", "report.csv"])
    expect(names(page, "left")).not_to_contain_text(["data/"])
    expect(page.locator(".tfm-message")).to_contain_text("Moved 1 item")
    assert s3.keys(demo_tree, "right/data/") == ["right/data/one.csv", "right/data/two.csv"]
    s3.seed(demo_tree, {"left/new-from-elsewhere.txt": b"x"})
    page.keyboard.press("Control+r")  # F5 copies, as in the twin-pane managers
    expect(names(page, "left")).to_contain_text(["new-from-elsewhere.txt"])


def test_keys_are_text_preview_and_path_code(page, lab, demo_tree):
    root = open_browser_notebook(page, lab, lab.notebook("xss.ipynb", browser_cell(demo_tree)))
    expect(names(page, "left").nth(1)).to_have_text(XSS)
    assert pane(page, "left").locator(".tfm-row img").count() == 0
    root.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    preview = page.locator(".tfm-preview")
    expect(preview.locator(".tfm-preview-title")).to_have_text(XSS)
    expect(preview.locator(".tfm-preview-text")).to_have_text("not a script")
    line = preview.locator(".tfm-line")  # numbered: the number is drawn by CSS, never part of the text
    expect(line).to_have_count(1)
    assert line.evaluate("el => getComputedStyle(el, '::before').content") == "counter(line)"
    shot(root, "browser-preview.png")
    assert page.alerts == []  # nothing ran
    page.keyboard.press("y")
    expect(page.locator(".tfm-message")).to_contain_text("copied 1 Path(...)")
    code = root.get_attribute("data-copied")
    assert code == f"from tfm_jupyter import Path\np = Path('s3://{demo_tree}/left/{XSS}')"


def test_parquet_previews_as_a_table_whose_cells_are_text(page, lab, s3, bucket):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"region": ["north", "<script>alert(1)</script>"], XSS: [1, 2]}), buffer)
    s3.seed(bucket, {"t/sales.parquet": buffer.getvalue()})
    root = open_browser_notebook(page, lab, lab.notebook("parquet.ipynb", f"import tfm_jupyter\n"
                                                         f"tfm_jupyter.browse('s3://{bucket}/t', 's3://')"))
    expect(names(page, "left")).to_have_text(["sales.parquet"])
    root.focus()
    page.keyboard.press("Enter")
    table = page.locator(".tfm-preview-table")
    expect(table.locator("th")).to_have_text(["region", XSS])
    expect(table.locator("tr").nth(2).locator("td").first).to_have_text("<script>alert(1)</script>")
    expect(page.locator(".tfm-preview-meta")).to_contain_text("region: string")
    assert page.alerts == [] and table.locator("img, script").count() == 0
    shot(root, "browser-parquet.png")


def test_errors_appear_in_the_widget(page, lab, demo_tree):
    root = open_browser_notebook(page, lab, lab.notebook("errors.ipynb", browser_cell(demo_tree)))
    path = pane(page, "left").locator(".tfm-path")
    path.fill(f"s3://{demo_tree}/does-not-exist")
    path.press("Enter")
    expect(page.locator(".tfm-message.tfm-error")).to_contain_text("FileNotFoundError")
    expect(path).to_have_value(f"s3://{demo_tree}/left")  # the field shows the folder the pane shows
    path.fill(f"s3://{demo_tree[:-1]}x/left")
    path.press("Enter")
    # the nearest first (others as near may follow: the session's buckets share their prefix)
    expect(page.locator(".tfm-message.tfm-error")).to_contain_text(f"did you mean 's3://{demo_tree}/'")
    shot(root, "browser-bad-path.png")
    root.focus()
    page.keyboard.press("ArrowDown")
    expect(focused(page, "left")).to_have_text(XSS)  # still alive


def test_tfm_magic_in_notebook_7(page, lab, demo_tree):
    name = lab.notebook("nb7.ipynb", "%load_ext tfm_jupyter", f"%tfm s3://{demo_tree}/left s3://{demo_tree}/right",
                        "z = 3")
    root = open_browser_notebook(page, lab, name, ui="notebook")
    expect(names(page, "left")).to_have_text(["data/", XSS, "notes.txt", "readme.md", "report.csv"])
    root.focus()
    cell = active_cell(page)
    page.keyboard.press("ArrowDown")
    expect(focused(page, "left")).to_have_text(XSS)
    assert active_cell(page) == cell


def test_the_demo_bucket_screenshot(page, lab):
    """The README's picture: the demo data, one folder previewed."""
    root = open_browser_notebook(page, lab, lab.notebook(
        "demo.ipynb", "%load_ext tfm_jupyter", "%tfm s3://demo/sales/2024/north s3://demo/"))
    expect(names(page, "right")).to_contain_text(["awkward/", "logs/", "sales/"])
    root.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    table = page.locator(".tfm-preview-table")  # a CSV previews as a table of text cells
    expect(table.locator("th")).to_have_text(["date", "region", "product", "units", "unit_price"])
    expect(table.locator("tr").nth(1).locator("td").nth(1)).to_have_text("north")
    expect(pane(page, "left").locator(".tfm-status")).to_contain_text("30 items · 2 selected")
    shot(root, "browser.png")


def test_a_big_local_folder_arrives_whole_while_the_view_renders(page, lab, tmp_path):
    """Pages stream while the view starts; the re-sent rows replace, never add to, what arrived."""
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(12_000):
        (folder / f"f{index:05d}").touch()
    open_notebook(page, lab, lab.notebook("big.ipynb", f"import tfm_jupyter\ntfm_jupyter.browse({str(folder)!r})"))
    expect(pane(page, "left").locator(".tfm-status")).to_contain_text("12,000 items · listed", timeout=60_000)
    expect(pane(page, "left").locator(".tfm-row").first).to_have_text(re.compile("^f00000"))
    assert pane(page, "left").locator(".tfm-row").count() < 100  # a virtual list: only what is on screen


def test_find_by_name_and_by_content_then_reveal(page, lab, demo_tree, s3):
    s3.seed(demo_tree, {"left/data/deep/needle.csv": b"x,y\nfind me,1\n"})
    root = open_browser_notebook(page, lab, lab.notebook("find.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("Shift+F")
    page.keyboard.type("*.csv")
    page.keyboard.press("Enter")
    results = page.locator(".tfm-results")
    expect(results.locator(".tfm-results-title")).to_have_text("4 files named *.csv")
    expect(results.locator(".tfm-result")).to_have_text(["data/deep/needle.csv", "data/one.csv", "data/two.csv",
                                                         "report.csv"])
    shot(root, "browser-find.png")
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+G")
    page.keyboard.type("FIND ME")
    page.keyboard.press("Enter")
    expect(results.locator(".tfm-result")).to_have_text(["data/deep/needle.csv"])
    page.keyboard.press("Enter")  # reveal: open its folder with the file focused
    expect(pane(page, "left").locator(".tfm-path")).to_have_value(f"s3://{demo_tree}/left/data/deep")
    expect(focused(page, "left")).to_have_text("needle.csv")
    expect(page.locator(".tfm-meter")).to_contain_text("since opened:")


def test_compare_and_synchronize_the_panes(page, lab, demo_tree, s3):
    s3.seed(demo_tree, {"right/report.csv": b"another size\n"})
    root = open_browser_notebook(page, lab, lab.notebook("sync.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("=")
    expect(page.locator(".tfm-message")).to_contain_text("compared:")
    left_rows = pane(page, "left").locator(".tfm-row")
    expect(left_rows.filter(has_text="notes.txt")).to_have_class(re.compile("tfm-cmp-only"))
    expect(left_rows.filter(has_text="report.csv")).to_have_class(re.compile("tfm-cmp-differs"))
    expect(pane(page, "right").locator(".tfm-row").filter(has_text="report.csv")).to_have_class(
        re.compile("tfm-cmp-differs"))
    expect(page.locator(".tfm-legend span")).to_have_text(["only in this pane", "newer in this pane",
                                                            "differs from the other pane"])
    shot(root, "browser-compare.png")
    page.keyboard.press("+")
    dialog = page.locator(".tfm-dialog")
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Synchronize the panes")
    expect(dialog.locator(".tfm-dialog-message")).to_contain_text("Left → right: copy 6 files")
    expect(dialog.get_by_role("button")).to_have_text(["Left → right", "Right → left", "Cancel"])
    shot(root, "browser-sync.png")
    dialog.get_by_role("button", name="Left → right").click()
    expect(page.locator(".tfm-message")).to_contain_text("copied 6")
    expect(names(page, "right")).to_have_text(["data/", XSS, "notes.txt", "readme.md", "report.csv"])
    assert s3.body(demo_tree, "right/report.csv") == b"r,s\n"
    expect(pane(page, "left").locator(".tfm-cmp-only")).to_have_count(0)  # the marks went with the sync


def test_a_configured_program_runs_on_local_and_s3_selections(page, lab, demo_tree, tmp_path):
    (tmp_path / "a.txt").write_text("12345\n")
    (tmp_path / "b.txt").write_text("12\n")
    cell = ("import tfm_jupyter\ntfm_jupyter.configure_browser(programs={'count': 'wc -c $TFM_THIS_SELECTED'})\n"
            f"b = tfm_jupyter.browse('s3://{demo_tree}/left', {str(tmp_path)!r})\nb")
    root = open_browser_notebook(page, lab, lab.notebook("programs.ipynb", cell))
    root.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("a")  # both local files
    page.keyboard.press("!")
    dialog = page.locator(".tfm-dialog")
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Run a command")
    expect(dialog.get_by_role("button")).to_have_text(["Run", "count", "Cancel"])
    expect(dialog.locator("input[type=checkbox]")).to_have_count(0)  # local files need no download
    dialog.get_by_role("button", name="count").click()
    preview = page.locator(".tfm-preview")
    expect(preview.locator(".tfm-preview-title")).to_have_text("$ wc -c $TFM_THIS_SELECTED")
    expect(preview.locator(".tfm-preview-text")).to_contain_text(f"6 {tmp_path}/a.txt")
    expect(preview.locator(".tfm-preview-text")).to_contain_text("9 total")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.press("End")  # report.csv on S3
    page.keyboard.press("!")
    dialog.locator("input[type=checkbox]").check()  # download the S3 item to a temporary folder first
    shot(root, "browser-run.png")
    dialog.get_by_role("button", name="count").click()
    expect(preview.locator(".tfm-preview-text")).to_contain_text("4 /tmp/tfm-run-")
    expect(preview.locator(".tfm-preview-text")).to_contain_text("report.csv")
    expect(page.locator(".tfm-message")).to_contain_text("finished")


def test_the_lab_starts_without_the_news_prompt(page, lab):
    open_notebook(page, lab, lab.notebook("quiet.ipynb", "1 + 1"))
    schema = page.evaluate("""async () => {
        const plugin = await window.jupyterapp.serviceManager.settings.fetch(
            '@jupyterlab/apputils-extension:notification');
        return plugin.schema.properties;
    }""")  # the server applies overrides.json to the defaults it serves
    assert schema["fetchNews"]["default"] == "false" and schema["checkForUpdates"]["default"] is False
    expect(page.locator(".jp-toast-message")).to_have_count(0)


def test_an_azure_pane_next_to_an_s3_pane_copies_between_them(page, lab, az_root, azurite, s3, bucket):
    az_root.backend.write_bytes(az_root / "from-azure.csv", b"a,b\n1,2\n")
    s3.seed(bucket, {"from-s3.txt": b"s3 bytes\n"})
    cell = ("import tfm_jupyter\n"
            f"tfm_jupyter.configure_storage('az://', connection_string={azurite.connection_string!r})\n"
            f"b = tfm_jupyter.browse('{az_root}', 's3://{bucket}/')\nb")
    root = open_browser_notebook(page, lab, lab.notebook("clouds.ipynb", cell))
    expect(names(page, "left")).to_have_text(["from-azure.csv"])
    expect(names(page, "right")).to_have_text(["from-s3.txt"])
    root.focus()
    page.keyboard.press("c")
    page.locator(".tfm-dialog").get_by_role("button", name="Copy").click()
    expect(names(page, "right")).to_have_text(["from-azure.csv", "from-s3.txt"])
    assert s3.body(bucket, "from-azure.csv") == b"a,b\n1,2\n"
    page.keyboard.press("Tab")
    page.keyboard.press("End")  # from-s3.txt
    page.keyboard.press("c")
    page.locator(".tfm-dialog").get_by_role("button", name="Copy").click()
    expect(names(page, "left")).to_have_text(["from-azure.csv", "from-s3.txt"])
    container = az_root.backend.service(az_root.authority).get_container_client(az_root.authority)
    assert container.download_blob("from-s3.txt").readall() == b"s3 bytes\n"
    shot(root, "browser-azure-s3.png")


def test_enter_in_the_conflict_dialog_skips(page, lab, demo_tree, s3):
    root = open_browser_notebook(page, lab, lab.notebook("enter.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("End")  # report.csv, which also exists on the right
    page.keyboard.press("c")
    dialog = page.locator(".tfm-dialog")
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("report.csv already exists")
    expect(dialog.get_by_role("button", name="Skip")).to_be_focused()
    page.keyboard.press("Enter")  # a stray Enter: the safe choice
    expect(dialog).to_be_hidden()
    expect(root).to_have_attribute("data-busy", "false")  # the job has ended
    assert s3.body(demo_tree, "right/report.csv") == b"old\n"
    page.keyboard.press("k")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    assert "left/report.csv" in s3.keys(demo_tree)


def test_the_mouse_does_it_all_buttons_its_own_menu_and_dragging_rows(page, lab, demo_tree, s3):
    root = open_browser_notebook(page, lab, lab.notebook("mouse.ipynb", browser_cell(demo_tree)))
    bar = page.get_by_role("toolbar", name="file commands")
    expect(bar.get_by_role("button")).to_have_text(["View", "Copy", "Move", "New folder", "Delete", "Rename",
                                                      "Upload", "Download", "Refresh", "Usage", "Up", "Help"])
    dialog = page.locator(".tfm-dialog")
    names(page, "left").filter(has_text="readme.md").click()
    bar.get_by_role("button", name="Copy").click()  # the button bar
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Copy 1 item?")
    dialog.get_by_role("button", name="Copy").click()
    expect(names(page, "right")).to_have_text(["readme.md", "report.csv"])
    assert s3.body(demo_tree, "right/readme.md") == b"# readme\n"
    # right-click: the widget's own menu, and not JupyterLab's notebook menu (Cut Cell, Delete Cell, ...)
    names(page, "left").filter(has_text="notes.txt").click(button="right")
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem")).to_have_count(12)
    expect(page.locator(".lm-Menu")).to_have_count(0)
    shot(root, "browser-menu.png")
    menu.get_by_role("menuitem", name="Delete").click()
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Delete 1 item?")
    dialog.get_by_role("button", name="Delete").click()
    expect(names(page, "left")).not_to_contain_text(["notes.txt"])
    assert "left/notes.txt" not in s3.keys(demo_tree)
    expect(menu).to_be_hidden()
    # drag a row onto the other pane: a copy, confirmed as any other
    names(page, "left").filter(has_text="data/").drag_to(pane(page, "right").locator(".tfm-list"))
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Copy 1 item?")
    shot(root, "browser-drag.png")
    dialog.get_by_role("button", name="Copy").click()
    expect(names(page, "right")).to_have_text(["data/", "readme.md", "report.csv"])
    assert s3.keys(demo_tree, "right/data/") == ["right/data/one.csv", "right/data/two.csv"]
    # the function keys of the twin-pane managers: F7 new folder, F6 move, F8 delete
    root.focus()
    page.keyboard.press("F7")
    dialog.locator(".tfm-dialog-input").fill("made-with-f7")
    dialog.locator(".tfm-dialog-input").press("Enter")
    expect(names(page, "left")).to_contain_text(["made-with-f7/"])
    assert "left/made-with-f7/" in s3.keys(demo_tree)
    bar.get_by_role("button", name="Up", exact=True).click()
    expect(pane(page, "left").locator(".tfm-path")).to_have_value(f"s3://{demo_tree}/")


def luminance(css_colour):
    red, green, blue = (int(part) for part in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_jupyterlabs_look_in_light_and_dark_and_at_1024_pixels_with_the_sidebar_open(chromium, lab, s3, bucket):
    long_name = "quarterly report 2024.csv"
    s3.seed(bucket, {f"left/{long_name}": b"q\n", "left/sunrise.png": b"p", "left/notes.md": b"n", "left/sub/x": b"x",
                     "right/old.txt": b"o"})
    context = chromium.new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        root = open_browser_notebook(page, lab, lab.notebook("look.ipynb", browser_cell(bucket)))
        if page.evaluate("window.jupyterapp.shell.leftCollapsed"):
            page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
        page.wait_for_function("!window.jupyterapp.shell.leftCollapsed")
        name = names(page, "left").filter(has_text=long_name)
        expect(name).to_be_visible()
        page.wait_for_function("""(name) => { const cell = [...document.querySelectorAll('.tfm-col-name')]
            .find((el) => el.textContent === name); return cell && cell.scrollWidth <= cell.clientWidth; }""",
                               arg=long_name)  # the name is whole: Modified gave way first
        expect(pane(page, "left").locator(".tfm-row .tfm-col-date").first).to_be_hidden()
        assert pane(page, "left").locator(".tfm-status").evaluate("el => el.getClientRects().length") == 1
        meter = page.locator(".tfm-meter")
        assert meter.evaluate("el => el.scrollWidth <= el.clientWidth")  # the request counter is not clipped
        rows = pane(page, "left").locator(".tfm-row")
        expect(rows.filter(has_text="sunrise.png")).to_have_class(re.compile("tfm-type-image"))
        expect(rows.filter(has_text=long_name)).to_have_class(re.compile("tfm-type-table"))
        font = root.evaluate("el => getComputedStyle(el).fontFamily")
        assert "mono" not in font.lower()  # JupyterLab's UI font, not a terminal's
        assert luminance(root.evaluate("el => getComputedStyle(el).backgroundColor")) > 0.8
        shot(root, "browser-1024.png")
        page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'"
                               " && !document.getElementById('jupyterlab-splash')", timeout=30_000)
        page.wait_for_function("""() => { const el = document.querySelector('.tfm-browser');
            const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);
            return r + g + b < 200; }""")
        assert luminance(name.evaluate("el => getComputedStyle(el).color")) > 0.6  # light text on dark
        button = page.get_by_role("toolbar", name="file commands").get_by_role("button", name="Copy")
        assert luminance(button.evaluate("el => getComputedStyle(el).backgroundColor")) < 0.4
        shot(root, "browser-dark.png")
    finally:
        page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        context.close()


def test_upload_from_the_laptop_by_the_file_chooser_and_by_a_drop_then_download_back(page, lab, demo_tree, s3,
                                                                                      tmp_path):
    big, small = os.urandom(30 * 2**20), b"small file\n"
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "small.txt").write_bytes(small)
    root = open_browser_notebook(page, lab, lab.notebook("laptop.ipynb", browser_cell(demo_tree)))
    bar = page.get_by_role("toolbar", name="file commands")
    with page.expect_file_chooser() as chooser:
        bar.get_by_role("button", name="Upload").click()
    chooser.value.set_files([str(tmp_path / "big.bin"), str(tmp_path / "small.txt")])
    expect(page.locator(".tfm-message")).to_contain_text("Uploaded 2 files (30.0 MiB)", timeout=60_000)
    expect(names(page, "left")).to_contain_text(["big.bin", "small.txt"])
    assert s3.body(demo_tree, "left/big.bin") == big and s3.body(demo_tree, "left/small.txt") == small
    # files dropped from the desktop onto the right pane (a DataTransfer as the OS gives it)
    page.evaluate("""() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(30 * 1024 * 1024).fill(7)], 'dropped.bin'));
        transfer.items.add(new File(['hello from the desktop'], 'note.txt'));
        const list = document.querySelector('.tfm-pane[data-side=right] .tfm-list');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            list.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""")
    expect(page.locator(".tfm-message")).to_contain_text("Uploaded 2 files", timeout=60_000)
    expect(names(page, "right")).to_contain_text(["dropped.bin", "note.txt"])
    assert s3.body(demo_tree, "right/dropped.bin") == bytes([7]) * (30 * 2**20)
    assert s3.body(demo_tree, "right/note.txt") == b"hello from the desktop"
    # and back to the laptop: a file as it is, a folder as a zip
    names(page, "left").filter(has_text="big.bin").click()
    with page.expect_download() as download:
        bar.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "big.bin"
    assert FsPath(download.value.path()).read_bytes() == big
    names(page, "left").filter(has_text="data/").click()
    with page.expect_download() as download:
        page.keyboard.press("d")
    assert download.value.suggested_filename == "data.zip"
    archive = zipfile.ZipFile(download.value.path())
    assert {n: archive.read(n) for n in archive.namelist()} == {"data/one.csv": b"a,b\n1,2\n", "data/two.csv": b"c\n"}
    shot(root, "browser-upload.png")


def test_the_usage_view_shows_what_uses_the_storage(page, lab, s3, bucket):
    s3.seed(bucket, {"left/big/a.bin": b"a" * 200_000, "left/big/b.bin": b"b" * 100_000, "left/small/c.txt": b"c",
                     "left/top.csv": b"t" * 5_000, "right/x": b"x"})
    s3.server.backend.put_object(bucket, "left/cold/old.bin", b"o" * 120_000, storage="GLACIER")
    root = open_browser_notebook(page, lab, lab.notebook("usage.ipynb", browser_cell(bucket)))
    names(page, "left").filter(has_text="top.csv").click()  # on a file: the usage of the pane's folder
    page.get_by_role("toolbar", name="file commands").get_by_role("button", name="Usage").click()
    view = page.locator(".tfm-usage")
    expect(view.locator(".tfm-usage-summary")).to_contain_text("in 5 files")
    expect(view.locator(".tfm-usage-summary")).to_contain_text("/month · 1 request to measure")
    expect(view.locator(".tfm-treemap-name")).to_have_text(["big/", "cold/", "(files here)", "small/"])
    expect(view.locator(".tfm-usage-class")).to_have_text(["GLACIER", "STANDARD"])
    cells = view.locator(".tfm-treemap-cell")
    areas = [cells.nth(i).evaluate("el => el.offsetWidth * el.offsetHeight") for i in range(4)]
    assert areas[0] > areas[1] > areas[2] > areas[3]  # biggest folder, biggest rectangle
    shot(root, "browser-usage.png")


def test_the_usage_view_says_which_inventory_it_counted_from(page, lab, s3, bucket):
    from test_inventory import publish

    objects = {"left/a.csv": b"a" * 300, "left/sub/b.csv": b"b" * 20, "right/x": b"x"}
    s3.seed(bucket, objects)
    manifest = publish(s3, bucket, objects)
    cell = (f"import tfm_jupyter\nb = tfm_jupyter.browse('s3://{bucket}/left', 's3://{bucket}/right', "
            f"inventories={{'s3://{bucket}': '{manifest}'}})\nb")
    root = open_browser_notebook(page, lab, lab.notebook("inventory.ipynb", cell))
    names(page, "left").filter(has_text="a.csv").click()  # on a file: the usage of the pane's folder
    page.get_by_role("toolbar", name="file commands").get_by_role("button", name="Usage").click()
    summary = page.locator(".tfm-usage .tfm-usage-summary")
    expect(summary).to_contain_text("320 B in 2 files")
    expect(summary).to_contain_text("3 requests to measure · from the inventory of 2026-11-30 21:32 UTC")
    expect(root.locator(".tfm-treemap-name")).to_have_text(["(files here)", "sub/"])
