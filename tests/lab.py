"""A JupyterLab server for tests and benchmarks, and opening a notebook in it with Playwright.

JupyterLab serves Notebook 7 too (``ui="notebook"``).  The server inherits this process's
environment, so its kernels reach the same S3 endpoint as the test or benchmark.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

from tfm_jupyter.demo import write_lab_overrides

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server for the tests (Notebook 7 is served by the same server)."""

    def __init__(self, workdir: Path):
        self.root = workdir / "notebooks"
        self.root.mkdir()
        write_lab_overrides()  # what `make demo` does: no news prompt over the notebook
        self.port, self.token = _free_port(), secrets.token_hex(12)
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(workdir / "settings"),  # empty: the user's defaults
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



def open_notebook(page, lab: Lab, name: str, ui: str = "lab") -> None:
    """Open a notebook (no tabs restored from an earlier workspace) and run all its cells."""
    path = "lab/tree" if ui == "lab" else "notebooks"
    reset = "reset&" if ui == "lab" else ""
    page.goto(f"{lab.url}/{path}/{name}?{reset}token={lab.token}")
    page.wait_for_function(
        "() => { const w = window.jupyterapp?.shell?.currentWidget;"
        " return w?.sessionContext?.session?.kernel?.connectionStatus === 'connected'; }", timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
