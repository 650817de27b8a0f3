"""The browser widget in a real browser: headless Debian chromium (Playwright) on a real JupyterLab.

JupyterLab is started by the test with the S3 server's environment, so its kernels talk to the same
moto server the assertions read.  Screenshots of the main states go to ``test-results/screenshots``
(``TFM_UPDATE_SCREENSHOTS=1`` writes them to ``docs/`` instead).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path as FsPath

import nbformat
import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = FsPath(__file__).resolve().parent.parent
SHOTS = REPO / ("docs" if os.environ.get("TFM_UPDATE_SCREENSHOTS") else "test-results/screenshots")
XSS = "<img src=x onerror=alert(1)>.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server for the tests (Notebook 7 is served by the same server)."""

    def __init__(self, workdir: FsPath):
        self.root = workdir / "notebooks"
        self.root.mkdir()
        settings = workdir / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.port, self.token = _free_port(), secrets.token_hex(12)
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(workdir / "settings"),
                   JUPYTER_RUNTIME_DIR=str(workdir / "runtime"))
        self.log = open(workdir / "lab.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={self.port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--expose-app-in-browser",
             "--JupyterNotebookApp.expose_app_in_browser=True"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("JupyterLab did not start: see " + str(workdir / "lab.log")) from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def notebook(self, name: str, *cells: str) -> str:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, self.root / name)
        return name


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"])
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


def open_notebook(page, lab, name, ui="lab"):
    """Open a notebook, run all its cells, and return the widget's root element."""
    path = "lab/tree" if ui == "lab" else "notebooks"
    reset = "reset&" if ui == "lab" else ""  # no tabs restored from an earlier test's workspace
    page.goto(f"{lab.url}/{path}/{name}?{reset}token={lab.token}")
    page.wait_for_function(
        "() => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return w?.sessionContext?.session?.kernel?.connectionStatus === 'connected'; }", timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
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
    root = open_notebook(page, lab, lab.notebook("keys.ipynb", browser_cell(demo_tree), "x = 1", "y = 2"))
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
    shot(root, "browser-help.png")
    page.keyboard.press("Escape")
    expect(page.locator(".tfm-help")).to_be_hidden()
    assert active_cell(page) == cell


def test_filter_search_sort_and_hidden(page, lab, demo_tree, s3):
    s3.seed(demo_tree, {"left/.hidden.csv": b"h"})
    root = open_notebook(page, lab, lab.notebook("filter.ipynb", browser_cell(demo_tree)))
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
    root = open_notebook(page, lab, lab.notebook("ops.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("End")  # report.csv, which also exists on the right
    page.keyboard.press("ArrowUp")  # readme.md
    page.keyboard.press("c")
    dialog = page.locator(".tfm-dialog")
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Copy 1 item(s)?")
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
    expect(dialog.locator(".tfm-dialog-title")).to_have_text("Delete 1 item(s)?")
    dialog.get_by_role("button", name="Delete").click()
    expect(names(page, "left")).to_have_text(["data/", XSS, "notes.txt", "readme.md"])
    assert "left/report.csv" not in s3.keys(demo_tree)
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
    root = open_notebook(page, lab, lab.notebook("move.ipynb", browser_cell(demo_tree)))
    root.focus()
    page.keyboard.press("Space")  # select data/
    page.keyboard.press("m")
    page.locator(".tfm-dialog").get_by_role("button", name="Move").click()
    expect(names(page, "right")).to_have_text(["data/", "report.csv"])
    expect(names(page, "left")).not_to_contain_text(["data/"])
    expect(page.locator(".tfm-message")).to_contain_text("Moved 1 item(s)")
    assert s3.keys(demo_tree, "right/data/") == ["right/data/one.csv", "right/data/two.csv"]
    s3.seed(demo_tree, {"left/new-from-elsewhere.txt": b"x"})
    page.keyboard.press("F5")
    expect(names(page, "left")).to_contain_text(["new-from-elsewhere.txt"])


def test_keys_are_text_preview_and_path_code(page, lab, demo_tree):
    root = open_notebook(page, lab, lab.notebook("xss.ipynb", browser_cell(demo_tree)))
    expect(names(page, "left").nth(1)).to_have_text(XSS)
    assert pane(page, "left").locator(".tfm-row img").count() == 0
    root.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    preview = page.locator(".tfm-preview")
    expect(preview.locator(".tfm-preview-title")).to_have_text(XSS)
    expect(preview.locator(".tfm-preview-text")).to_have_text("not a script")
    shot(root, "browser-preview.png")
    assert page.alerts == []  # nothing ran
    page.keyboard.press("y")
    expect(page.locator(".tfm-message")).to_contain_text("copied 1 Path(...)")
    code = root.get_attribute("data-copied")
    assert code == f"from tfm_jupyter import Path\np = Path('s3://{demo_tree}/left/{XSS}')"


def test_errors_appear_in_the_widget(page, lab, demo_tree):
    root = open_notebook(page, lab, lab.notebook("errors.ipynb", browser_cell(demo_tree)))
    path = pane(page, "left").locator(".tfm-path")
    path.fill(f"s3://{demo_tree}/does-not-exist")
    path.press("Enter")
    expect(page.locator(".tfm-message.tfm-error")).to_contain_text("not a folder")
    root.focus()
    page.keyboard.press("ArrowDown")
    expect(focused(page, "left")).to_have_text(XSS)  # still alive


def test_tfm_magic_in_notebook_7(page, lab, demo_tree):
    name = lab.notebook("nb7.ipynb", "%load_ext tfm_jupyter", f"%tfm s3://{demo_tree}/left s3://{demo_tree}/right",
                        "z = 3")
    root = open_notebook(page, lab, name, ui="notebook")
    expect(names(page, "left")).to_have_text(["data/", XSS, "notes.txt", "readme.md", "report.csv"])
    root.focus()
    cell = active_cell(page)
    page.keyboard.press("ArrowDown")
    expect(focused(page, "left")).to_have_text(XSS)
    assert active_cell(page) == cell


def test_the_demo_bucket_screenshot(page, lab):
    """The README's picture: the demo data, one folder previewed."""
    root = open_notebook(page, lab, lab.notebook(
        "demo.ipynb", "%load_ext tfm_jupyter", "%tfm s3://demo/sales/2024/north s3://demo/"))
    expect(names(page, "right")).to_contain_text(["awkward/", "logs/", "sales/"])
    root.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator(".tfm-preview-text")).to_contain_text("date,region,product,units,unit_price")
    expect(pane(page, "left").locator(".tfm-status")).to_contain_text("30 items · 2 selected")
    shot(root, "browser.png")
