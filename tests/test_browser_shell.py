"""The browser and the shell: TFM's variables in os.environ, and commands run on the selection."""

import os

import pytest
from IPython.core.interactiveshell import InteractiveShell
from widget_driver import User, focus, press

from conftest import only
from tfm_jupyter import configure_browser
from tfm_jupyter.browser import browse


@pytest.fixture
def panes(s3, bucket, tmp_path):
    s3.seed(bucket, {"src/a.txt": b"alpha\n", "src/b.csv": b"x,y\n1,2\n", "src/sub/c.txt": b"C"})
    local = tmp_path / "local"
    local.mkdir()
    (local / "one.txt").write_text("1\n2\n3\n")
    (local / "two words.txt").write_text("4\n")
    b = browse(f"s3://{bucket}/src", local)
    b.wait()
    yield b, bucket, local
    configure_browser(programs={})


def env(*names):
    return [os.environ[name] for name in names]


def test_the_variables_follow_focus_selection_panes_and_folders(panes):
    b, bucket, local = panes
    assert env("TFM_THIS_DIR", "TFM_OTHER_DIR", "TFM_LEFT_DIR", "TFM_RIGHT_DIR") == [
        f"s3://{bucket}/src/", str(local), f"s3://{bucket}/src/", str(local)]
    assert os.environ["TFM_THIS_SELECTED"] == f"s3://{bucket}/src/sub/"  # the focused folder
    focus(b, "left", "a.txt")
    assert os.environ["TFM_THIS_SELECTED"] == f"s3://{bucket}/src/a.txt"
    focus(b, "left", "a.txt", selection=["a.txt", "b.csv"])
    assert os.environ["TFM_THIS_SELECTED"] == f"s3://{bucket}/src/a.txt s3://{bucket}/src/b.csv"
    focus(b, "right", "two words.txt")
    press(b, "activate", "right")
    assert env("TFM_THIS_DIR", "TFM_OTHER_DIR") == [str(local), f"s3://{bucket}/src/"]
    assert os.environ["TFM_THIS_SELECTED"] == f"'{local}/two words.txt'"  # shell-quoted
    assert os.environ["TFM_OTHER_SELECTED"] == f"s3://{bucket}/src/a.txt s3://{bucket}/src/b.csv"
    press(b, "activate", "left")
    focus(b, "left", "sub")
    press(b, "open", "left")
    assert env("TFM_THIS_DIR", "TFM_LEFT_DIR") == [f"s3://{bucket}/src/sub/"] * 2


def test_the_most_recently_used_browser_wins(panes, tmp_path):
    b, bucket, _local = panes
    other = browse(tmp_path, f"s3://{bucket}/")
    other.wait()
    assert os.environ["TFM_LEFT_DIR"] == str(tmp_path)
    focus(b, "left", "b.csv")  # the first browser is used again
    assert os.environ["TFM_LEFT_DIR"] == f"s3://{bucket}/src/"
    assert os.environ["TFM_THIS_SELECTED"] == f"s3://{bucket}/src/b.csv"


def test_a_shell_cell_sees_them(panes):
    b, _bucket, local = panes
    press(b, "activate", "right")
    focus(b, "right", "one.txt", selection=["one.txt", "two words.txt"])
    shell = InteractiveShell.instance()
    assert shell.getoutput("echo $TFM_THIS_DIR") == [str(local)]
    assert shell.getoutput("eval wc -l $TFM_THIS_SELECTED")[-1].split()[:2] == ["4", "total"]
    focus(b, "right", "one.txt", selection=[])
    assert shell.getoutput("wc -l $TFM_THIS_SELECTED") == [f"3 {local}/one.txt"]


def test_a_configured_program_on_local_items_shows_its_output(panes):
    b, _bucket, local = panes
    configure_browser(programs={"lines": "wc -l $TFM_THIS_SELECTED"})
    press(b, "activate", "right")
    focus(b, "right", "one.txt")
    user = User(b, ("lines", "", False))
    press(b, "run", "right")
    user.stop()
    assert "lines: wc -l $TFM_THIS_SELECTED" in user.seen[0]["message"] and user.seen[0]["checkbox"] is None
    assert b.preview["name"] == "$ wc -l $TFM_THIS_SELECTED"
    assert b.preview["text"].split() == ["3", f"{local}/one.txt"] and b.preview["meta"]["exit status"] == 0
    assert "finished" in b.message["text"]


def test_s3_items_are_downloaded_first_when_asked(panes, s3):
    b, _bucket, local = panes
    focus(b, "left", "a.txt", selection=["a.txt", "b.csv"])
    user = User(b, ("Run", "cat $TFM_THIS_SELECTED", True), ("Run", "cat $TFM_THIS_SELECTED", False))
    with s3.counting() as counts:
        press(b, "run", "left")
    assert only(counts, GetObject=2)  # one download each, sizes and ETags from the pane's listing
    assert "download" in user.seen[0]["checkbox"]
    assert b.preview["text"] == "alpha\nx,y\n1,2\n" and b.preview["meta"]["exit status"] == 0
    press(b, "run", "left")  # the same without the download: cat cannot open s3:// names
    user.stop()
    assert b.preview["meta"]["exit status"] != 0 and "No such file" in b.preview["text"]
    assert b.message["level"] == "error" and "exit status" in b.message["text"]
    assert not [n for n in os.listdir(os.path.dirname(local)) if n.startswith("tfm-run-")]


def test_a_running_command_is_cancelled(panes):
    b, _bucket, _local = panes
    press(b, "activate", "right")

    def cancel_when_answered(change):
        if not change["new"].get("id"):  # the prompt closed: the command is starting
            b._on_message(b, {"action": "cancel", "pane": "right"}, [])

    user = User(b, ("Run", "exec sleep 600", False))
    b.observe(cancel_when_answered, names="dialog")
    press(b, "run", "right")
    b.unobserve(cancel_when_answered, names="dialog")
    user.stop()
    assert "cancelled" in b.message["text"] and b.job == {}


def test_configure_browser_checks_its_programs():
    with pytest.raises(ValueError):
        configure_browser(programs={"bad": 42})
    configure_browser(programs={"x": "true"})
    from tfm_jupyter.browser.programs import programs

    assert programs() == {"x": "true"}
    configure_browser(programs={})
    assert programs() == {}
