"""The magics in a real IPython shell against the real S3 endpoint."""

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import tfm_jupyter
from conftest import only
from tfm_jupyter import Path, commands

MAGICS = ["s3ls", "s3cp", "s3mv", "s3sync", "s3rm", "s3cat", "s3du", "s3find", "s3mkdir", "s3presign", "s3cd", "s3pwd",
          "s3cache", "tfm"]


def run(ip, line):
    """Run a line magic the way a cell does (variable expansion included)."""
    name, _, rest = line.lstrip("%").partition(" ")
    return ip.run_line_magic(name, rest, _stack_depth=1)


def test_load_and_unload_cleanly():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tfm_jupyter")
    assert all(name in shell.magics_manager.magics["line"] for name in MAGICS)
    shell.run_line_magic("unload_ext", "tfm_jupyter")
    assert not any(name in shell.magics_manager.magics["line"] for name in MAGICS)
    assert tfm_jupyter.magics.complete_s3 not in shell.Completer.custom_matchers
    shell.run_line_magic("load_ext", "tfm_jupyter")
    assert "s3ls" in shell.magics_manager.magics["line"]
    shell.run_line_magic("unload_ext", "tfm_jupyter")


def test_s3ls_returns_a_rich_listing(ip, s3, bucket):
    xss = "<img src=x onerror=alert(1)>.txt"
    s3.seed(bucket, {"d/a.csv": b"12345", "d/sub/x": b"", f"d/{xss}": b"!"})
    listing = run(ip, f"%s3ls -l -H s3://{bucket}/d")
    assert [p.name for p in listing] == ["sub", xss, "a.csv"]
    assert all(isinstance(p, Path) for p in listing)
    html = listing._repr_html_()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    assert html.count("<svg") == 3 and not any(0x1F300 <= ord(ch) <= 0x1FAFF for ch in html)  # no emoji font needed
    text = repr(listing)
    assert "PRE" in text and "5 B a.csv" in text and "sub/" in text
    frame = listing.to_pandas()
    assert list(frame["name"]) == ["sub", xss, "a.csv"]
    assert list(frame["size"].astype(object).where(frame["size"].notna(), None)) == [None, 1, 5]
    by_size = run(ip, f"%s3ls --sort size s3://{bucket}/d")
    assert [p.name for p in by_size] == ["sub", xss, "a.csv"]
    assert repr(run(ip, f"%s3ls -r s3://{bucket}/d")).splitlines() == [xss, "a.csv", "sub/x"]


def test_s3ls_lists_buckets_and_local_folders(ip, tmp_path, bucket):
    assert bucket in [p.bucket for p in run(ip, "%s3ls s3://")]
    (tmp_path / "local.txt").write_text("x")
    assert [p.name for p in run(ip, f"%s3ls {tmp_path}")] == ["local.txt"]


def test_variables_expand_and_quotes_keep_spaces(ip, tmp_path, s3, bucket):
    (tmp_path / "my report.csv").write_text("a,b\n")
    ip.user_ns.update(src=str(tmp_path / "my report.csv"), name="final report.csv", bkt=bucket)
    result = ip.run_cell('%s3cp "{src}" "s3://{bkt}/out/{name}"')
    assert result.success
    assert s3.keys(bucket) == ["out/final report.csv"]
    result = ip.run_cell("x = %s3ls s3://$bkt/out")
    assert [p.name for p in ip.user_ns["x"]] == ["final report.csv"]


def test_s3cp_recursive_with_filters_and_dryrun(ip, tmp_path, s3, bucket):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    for name in ("a.csv", "b.tmp", "raw/c.csv", "raw/keep.tmp"):
        (tmp_path / "data" / name).write_text(name)
    with pytest.raises(UsageError, match="use -r"):
        run(ip, f"%s3cp {tmp_path}/data s3://{bucket}/data")
    report = run(ip, f"%s3cp -r --dryrun {tmp_path}/data s3://{bucket}/data")
    assert len(report) == 4 and s3.keys(bucket) == [] and "(dryrun) copy" in repr(report)
    run(ip, f"%s3cp -r --exclude '*.tmp' --include 'raw/keep*' {tmp_path}/data s3://{bucket}/data")
    assert s3.keys(bucket) == ["data/a.csv", "data/raw/c.csv", "data/raw/keep.tmp"]
    run(ip, f"%s3cp s3://{bucket}/data/a.csv s3://{bucket}/data/raw/c.csv {tmp_path}/")
    assert (tmp_path / "a.csv").read_text() == "a.csv" and (tmp_path / "c.csv").read_text() == "raw/c.csv"


def test_s3mv_moves_and_keeps_nothing_behind(ip, s3, bucket):
    s3.seed(bucket, {"in/1.txt": b"1", "in/2.txt": b"2"})
    run(ip, f"%s3mv -r s3://{bucket}/in s3://{bucket}/out")
    assert s3.keys(bucket) == ["out/1.txt", "out/2.txt"]


def test_s3rm_needs_r_for_prefixes_and_yes_for_many(ip, s3, bucket, capsys):
    s3.seed(bucket, {f"many/{i}.txt": b"" for i in range(8)} | {"one.txt": b"", "few/a": b""})
    run(ip, f"%s3rm s3://{bucket}/one.txt")
    with pytest.raises(UsageError, match="use -r"):
        run(ip, f"%s3rm s3://{bucket}/many")
    assert len(run(ip, f"%s3rm -r --dryrun s3://{bucket}/many")) == 8
    with pytest.raises(UsageError, match="re-run with --yes"):
        run(ip, f"%s3rm -r s3://{bucket}/many")
    assert f"delete: s3://{bucket}/many/0.txt" in capsys.readouterr().out
    assert len(s3.keys(bucket, "many/")) == 8
    run(ip, f"%s3rm -r --yes s3://{bucket}/many")
    run(ip, f"%s3rm -r s3://{bucket}/few")
    assert s3.keys(bucket) == []


def test_s3cat_du_find_mkdir_presign(ip, s3, bucket):
    s3.seed(bucket, {"t/notes.txt": b"line one\nline two\n", "t/big.bin": b"x" * 5000, "t/sub/s.csv": b"1,2"})
    with s3.counting() as counts:
        assert run(ip, f"%s3cat -n 8 s3://{bucket}/t/notes.txt") == "line one"
    assert only(counts, GetObject=1)
    usage = run(ip, f"%s3du s3://{bucket}/t")
    assert (usage.bytes, usage.files, usage.directories) == (5021, 3, 1) and int(usage) == 5021
    assert "4.9 KiB" in repr(run(ip, f"%s3du -H s3://{bucket}/t"))
    assert [p.name for p in run(ip, f"%s3find s3://{bucket}/t --name '*.csv'")] == ["s.csv"]
    assert [p.name for p in run(ip, f"%s3find s3://{bucket}/t --larger 1k")] == ["big.bin"]
    assert len(run(ip, f"%s3find s3://{bucket}/t --newer 1h")) == 3
    assert len(run(ip, f"%s3find s3://{bucket}/t --newer 2999-01-01")) == 0
    run(ip, f"%s3mkdir -p s3://{bucket}/made/deep")
    assert "made/deep/" in s3.keys(bucket)
    assert "X-Amz-Expires=60" in run(ip, f"%s3presign --expires 60 s3://{bucket}/t/notes.txt")


def test_s3cd_and_relative_names(ip, s3, bucket):
    s3.seed(bucket, {"proj/data/x.csv": b"x"})
    run(ip, f"%s3cd s3://{bucket}/proj")
    assert str(run(ip, "%s3pwd")) == f"s3://{bucket}/proj"
    assert tfm_jupyter.commands.cwd() == Path(f"s3://{bucket}/proj")
    assert [p.name for p in run(ip, "%s3ls data")] == ["x.csv"]
    run(ip, "%s3cd data")
    assert run(ip, "%s3cat x.csv") == "x"
    run(ip, "%s3cd ..")
    assert commands.resolve("data/x.csv") == Path(f"s3://{bucket}/proj/data/x.csv")
    with pytest.raises(UsageError, match="FileNotFoundError"):
        run(ip, "%s3cd nowhere")


def test_s3cache_from_a_cell(ip, s3, bucket):
    s3.seed(bucket, {"k": b""})
    Path(f"s3://{bucket}/k").exists()
    assert run(ip, "%s3cache")["total_entries"] >= 1
    assert run(ip, "%s3cache clear")["total_entries"] == 0
    stats = run(ip, "%s3cache --ttl 5 --max-entries 50")
    assert (stats["default_ttl"], stats["max_entries"]) == (5, 50)


def test_errors_are_one_line_without_traceback(ip, bucket, capsys):
    result = ip.run_cell(f"%s3ls s3://{bucket}/does-not-exist")
    assert result.error_in_exec is not None
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"UsageError: FileNotFoundError: [Errno 2] No such file or directory: 's3://{bucket}/does-not-exist'"]
    ip.run_cell("%s3ls --no-such-flag")
    assert "UsageError" in capsys.readouterr().err
    ip.run_cell("%s3ls --sort weight s3://x")
    assert "invalid choice" in capsys.readouterr().err


def complete(ip, text):
    """The completed texts, as the notebook front end would insert them (ipykernel's API)."""
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [text[: c.start] + c.text for c in ip.Completer.completions(text, len(text))]


def test_completion_of_buckets_prefixes_and_string_literals_from_the_cache(ip, s3, bucket):
    s3.seed(bucket, {"sales/2024/a.csv": b"", "sales/2025/b.csv": b"", "salt.txt": b"", "zeta": b""})
    assert any(m.endswith(f"{bucket}/") for m in complete(ip, f"%s3ls s3://{bucket[:6]}"))
    with s3.counting() as first:
        matches = complete(ip, f"%s3ls s3://{bucket}/sal")
    assert matches == [f"%s3ls s3://{bucket}/sales/", f"%s3ls s3://{bucket}/salt.txt"]
    assert only(first, ListObjectsV2=1)
    with s3.counting() as again:
        complete(ip, f"%s3ls s3://{bucket}/sal")
        complete(ip, f"%s3ls s3://{bucket}/s")
    assert only(again)
    in_code = complete(ip, f"p = Path('s3://{bucket}/sales/20")
    assert in_code == [f"p = Path('s3://{bucket}/sales/2024/", f"p = Path('s3://{bucket}/sales/2025/"]
    run(ip, f"%s3cd s3://{bucket}/sales")
    assert complete(ip, "%s3ls 202") == ["%s3ls 2024/", "%s3ls 2025/"]


def test_long_copies_show_the_progress_bar(ip, tmp_path, s3, bucket, capsys):
    for index in range(60):
        (tmp_path / f"{index}.txt").write_text("x")
    run(ip, f"%s3cp -r {tmp_path} s3://{bucket}/bar")
    assert "60/60 files" in capsys.readouterr().err
    assert len(s3.keys(bucket, "bar/")) == 60


def test_every_magic_answers_dash_h_and_help_with_its_usage_and_does_nothing(ip, s3, bucket, capsys):
    s3.seed(bucket, {"keep/a.txt": b"a"})
    registered = [name for name, magic in ip.magics_manager.magics["line"].items()
                  if type(getattr(magic, "__self__", None)).__name__ == "S3Magics"]
    assert set(MAGICS) | {"s3sql", "s3meter", "s3grep"} <= set(registered)
    with s3.counting() as counts:
        for name in registered:
            for flag in ("-h", "--help"):
                result = ip.run_cell(f"%{name} {flag}")
                out, err = capsys.readouterr()
                assert result.error_in_exec is None and not err, (name, flag, err)
                assert f"%{name}" in out, (name, flag, out)  # the usage, from the magic's own parser
        help_of_cp = ip.run_cell("%s3cp -h")
        assert "--exclude GLOB" in capsys.readouterr().out and help_of_cp.result is None
        ip.run_cell(f"%s3rm -r --help s3://{bucket}/keep")  # help wins: nothing is deleted
    assert s3.keys(bucket) == ["keep/a.txt"] and sum(counts.values()) == 0


def test_sizes_for_people_are_capital_h_now_that_h_is_help(ip, s3, bucket):
    s3.seed(bucket, {"t/a.bin": b"x" * 5000})
    assert "4.9 KiB" in repr(run(ip, f"%s3du --human-readable s3://{bucket}/t"))
    assert "4.9 KiB" in repr(run(ip, f"%s3ls -l -H s3://{bucket}/t"))


def test_our_errors_show_the_users_lines_and_the_message_and_tb_shows_the_rest(ip, s3, bucket, capsys):
    import re

    s3.seed(bucket, {"sales/a.csv": b"a,b\n1,2\n"})
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    ip.run_cell("import pandas as pd\nfrom tfm_jupyter import Path\ndef load(p):\n    return pd.read_csv(p)")
    capsys.readouterr()
    result = ip.run_cell(f'load(Path("s3://{bucket}/sales"))')
    shown = ansi.sub("", capsys.readouterr().out)
    assert isinstance(result.error_in_exec, IsADirectoryError)
    assert "return pd.read_csv(p)" in shown and f'load(Path("s3://{bucket}/sales"))' in shown
    assert f"Is a directory: 's3://{bucket}/sales'" in shown and "%tb shows them" in shown
    assert "site-packages" not in shown and "tfm_jupyter/" not in shown  # no internals
    assert not hasattr(result.error_in_exec, "__notes__")  # the note was only for showing
    ip.run_cell("%tb")
    full = ansi.sub("", capsys.readouterr().out)
    assert "tfm_jupyter/s3/" in full and "pandas/" in full and "%tb shows them" not in full
    ip.run_line_magic("unload_ext", "tfm_jupyter")
    assert ip.custom_exceptions == ()
    ip.run_line_magic("load_ext", "tfm_jupyter")


def test_a_comment_after_a_magic_is_a_comment_but_a_hash_in_a_name_is_not(ip, s3, bucket):
    s3.seed(bucket, {"d/a#b.txt": b"x", "d/#1 notes.txt": b"y"})
    assert [p.name for p in run(ip, f"%s3ls s3://{bucket}/d  # every file")] == ["#1 notes.txt", "a#b.txt"]
    assert run(ip, f"%s3cat s3://{bucket}/d/a#b.txt # the one with a hash") == "x"
    assert run(ip, f"%s3cat 's3://{bucket}/d/#1 notes.txt'") == "y"
