"""Every Python example of the README runs as it is against ``make demo``'s data, in a real IPython
shell (magics and ``!`` lines included), so the README cannot drift from what the code does."""

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path as LocalFsPath

import pytest
from IPython.core.interactiveshell import InteractiveShell

README = LocalFsPath(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(?:<!-- readme-test: (?P<skip>[^>]*?) -->\n)?^```python\n(?P<source>.*?)^```", re.S | re.M)


def readme_blocks() -> list[tuple[int, str, str | None]]:
    """(line, source, why it is not run) of every ```python block, in order."""
    text = README.read_text()
    return [(text.count("\n", 0, m.start("source")) + 1, m.group("source"), m.group("skip"))
            for m in BLOCK.finditer(text)]


WRITABLE = ("scratch", "team")


@pytest.fixture
def demo(s3, tmp_path, monkeypatch):
    """``make demo``'s buckets (the session's server is seeded like it) and environment, a fresh home and
    working folder, and no stdin (a ``!`` example must not wait for input).  What the examples write to
    the demo's writable buckets is removed again."""
    from tfm_jupyter.demo import demo_environment
    from tfm_jupyter.s3 import client

    for name, value in demo_environment(s3.endpoint_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    before = {bucket: set(s3.keys(bucket)) for bucket in WRITABLE}
    client.reset_s3_configuration()
    saved_stdin = os.dup(0)
    with open(os.devnull) as nothing:
        os.dup2(nothing.fileno(), 0)
    try:
        yield s3
    finally:
        os.dup2(saved_stdin, 0)
        os.close(saved_stdin)
        client.reset_s3_configuration()
        for bucket, kept in before.items():
            for key in set(s3.keys(bucket)) - kept:
                s3.server.backend.delete_object(bucket, key)


def test_the_readme_has_examples_and_says_why_any_is_not_run():
    blocks = readme_blocks()
    assert len(blocks) >= 12
    skipped = [(line, why) for line, _, why in blocks if why]
    assert len(skipped) <= 4 and all("real" in why for _, why in skipped), skipped


def test_every_python_example_of_the_readme_runs_on_the_demo(demo, tmp_path, capsys):
    shell = InteractiveShell.instance()
    with contextlib.ExitStack() as undo:
        undo.callback(lambda: "tfm_jupyter" in shell.extension_manager.loaded and shell.run_line_magic(
            "unload_ext", "tfm_jupyter"))
        for line, source, skipped in readme_blocks():
            if skipped:
                continue
            result = shell.run_cell(source)
            assert result.success, f"README.md line {line}: {result.error_before_exec or result.error_in_exec!r}"
    shown = capsys.readouterr().out
    # ... and what they did is there, with something to show
    units = demo.body("scratch", "out/units.csv").decode()
    assert [row.split(",")[0] for row in units.splitlines()] == ["region", "east", "north", "south", "west"]
    assert sorted(p.name for p in (tmp_path / "home" / "images").iterdir()) == ["forest.png", "ocean.png",
                                                                                "sunrise.png"]
    assert sorted(p.name for p in (tmp_path / "work" / "downloads" / "results").iterdir())[:1] == ["2024-01-01.csv"]
    assert "s3://demo/logs/app/2024-01-01.log" in shown  # find: the application logs, by size and content
    assert re.search(r"s3://demo/logs/app/\S+ \d+ .*status=5\d\d", shown)  # grep: line numbers and lines
    assert "of 6,0" in shown or " bytes, 1 of 1 files" in shown  # the progress callback was called


def test_the_readmes_key_table_is_the_widgets_own():
    node = shutil.which("node")
    assert node, "node runs the widget's unit tests too"
    script = ('import("./js/src/keys.js").then(m => process.stdout.write(m.markdownTable() + "\\n\\n" + '
              'm.buttonsTable()))')
    keys, buttons = subprocess.run([node, "-e", script], cwd=README.parent, capture_output=True, text=True,
                                   check=True, timeout=60).stdout.split("\n\n")
    assert "| c / m, F5 / F6 | copy / move" in keys and "| Ctrl-R | refresh" in keys
    assert "| Move | F6 | move the selection" in buttons and "| Usage | U |" in buttons
    text = README.read_text()
    assert keys + "\n" in text and buttons + "\n" in text
