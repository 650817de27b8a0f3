"""Keys nobody expected, HTML in names, and credentials that must never show."""

import json
import logging
import os
import unicodedata
from pathlib import Path as FsPath

import pytest

from conftest import TEST_KEY_ID, TEST_SECRET
from tfm_jupyter import Path, clear_s3_cache, commands, configure_s3, errors
from tfm_jupyter.results import ListingResult

NFC = unicodedata.normalize("NFC", "café.txt")
NFD = unicodedata.normalize("NFD", "café.txt")
HOSTILE = {
    "with space.txt": b"space",
    NFC: b"composed",
    NFD: b"decomposed",
    "plus+percent%hash#q?amp&eq=semi;.txt": b"punctuation",
    "..": b"dotdot",
    "./dotslash.txt": b"dotslash",
    "/leading-slash.txt": b"leading",
    "k" * 1018 + ".txt": b"long",  # with "h/" in front: exactly 1,024 bytes
    "marker-with-content/": b"bytes in a directory marker",
    "marker-with-content/inside.txt": b"inside",
}


def test_hostile_keys_are_listed_read_copied_and_deleted(s3, bucket):
    s3.seed(bucket, {f"h/{key}": data for key, data in HOSTILE.items()})
    base = Path(f"s3://{bucket}/h")
    listed = {p.name for p in base.iterdir()}
    assert {"with space.txt", NFC, NFD, "plus+percent%hash#q?amp&eq=semi;.txt", "..", ".", "", "k" * 1018 + ".txt",
            "marker-with-content"} == listed
    assert NFC != NFD and (base / NFC).read_bytes() == b"composed" and (base / NFD).read_bytes() == b"decomposed"
    for key, data in HOSTILE.items():
        # a key ending in "/" is written with one more "/" (one trailing slash only means "directory")
        path = Path(f"s3://{bucket}/h/{key}" + ("/" if key.endswith("/") else ""))
        assert path.key == f"h/{key}", key
        assert path.read_bytes() == data, key
    marker = Path(f"s3://{bucket}/h/marker-with-content//")
    assert marker.is_file() and marker.stat().st_size == len(HOSTILE["marker-with-content/"])
    base.copy(Path(f"s3://{bucket}/c"), progress=False)  # a prefix as long as "h/": the long key still fits
    assert {k[len("c/"):] for k in s3.keys(bucket, "c/")} == set(HOSTILE)
    assert all(s3.body(bucket, f"c/{k}") == v for k, v in HOSTILE.items())
    commands.rm([str(base)], recursive=True, yes=True)
    assert s3.keys(bucket, "h/") == []
    clear_s3_cache()
    assert not base.exists()


def test_a_download_never_escapes_the_target_folder(s3, bucket, tmp_path):
    s3.seed(bucket, {"evil/../../escaped.txt": b"x", "evil/a/../../../up.txt": b"y", "evil/ok.txt": b"fine",
                     "evil/empty//component": b"z"})
    target = tmp_path / "inside" / "target"
    with pytest.raises(errors.TransferError) as info:
        Path(f"s3://{bucket}/evil").copy(target, progress=False)
    assert sorted(info.value.failures) == [f"s3://{bucket}/evil/../../escaped.txt",
                                           f"s3://{bucket}/evil/a/../../../up.txt",
                                           f"s3://{bucket}/evil/empty//component"]
    assert all("leave the target folder" in str(e) for e in info.value.failures.values())
    assert (target / "ok.txt").read_bytes() == b"fine"
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    # nothing outside the target; a folder whose only files were refused is not made
    assert everything == ["inside", "inside/target", "inside/target/ok.txt"]


def test_html_outputs_escape_keys(s3, bucket):
    payloads = ["<script>alert(1)<", "<img src=x onerror=alert(1)>.txt", "\"'><svg onload=alert(1)>"]
    s3.seed(bucket, {f"x/{name}": b"" for name in payloads})
    listing = commands.ls(f"s3://{bucket}/x", long=True)
    html = listing._repr_html_()
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert html.count("<svg") == len(payloads)  # our own icons, one per row, and nothing else
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html
    report = commands.cp([f"s3://{bucket}/x/{payloads[1]}"], f"s3://{bucket}/y/", dryrun=True)
    assert "<img" not in report._repr_html_()
    assert isinstance(listing, ListingResult)


@pytest.fixture
def secrets_in_play(monkeypatch):
    token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789abcdef"
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    configure_s3()
    return [TEST_KEY_ID, TEST_SECRET, token]


def test_credentials_never_appear_in_logs_errors_or_reprs(s3, bucket, secrets_in_play, caplog, tmp_path):
    from fault_proxy import FaultProxy, Rule

    s3.seed(bucket, {"a.txt": b"a"})
    with caplog.at_level(logging.DEBUG):  # every logger, botocore's included
        root = Path(f"s3://{bucket}/")
        (root / "b.txt").write_text("b")
        list(root.iterdir())
        (root / "a.txt").read_text()
        (tmp_path / "up").mkdir()
        (tmp_path / "up" / "f").write_bytes(os.urandom(9 * 2**20))  # multipart through s3transfer
        Path(tmp_path / "up").copy(root / "up", progress=False)
        shown = [repr(configure_s3()), repr(root), repr(commands.ls(str(root))), repr((root / "a.txt").stat())]
        with FaultProxy(s3.endpoint_url) as proxy:
            configure_s3(endpoint_url=proxy.url, max_attempts=1)
            proxy.add(Rule("status", status=403, code="SignatureDoesNotMatch"))
            with pytest.raises(PermissionError) as info:
                (root / "a.txt").read_bytes()
            shown.append(str(info.value))
            shown.append(repr(info.value))
    text = caplog.text + "\n".join(shown)
    assert "Sending http request" in caplog.text  # botocore's debug output really was captured
    for secret in secrets_in_play:
        assert secret not in text


def test_notebooks_hold_no_credentials_and_no_signed_urls():
    for path in sorted(FsPath(__file__).resolve().parent.parent.joinpath("notebooks").glob("*.ipynb")):
        outputs = json.dumps([cell.get("outputs", []) for cell in json.loads(path.read_text("utf-8"))["cells"]])
        for secret in ("demo-secret-key", "demo-access-key", TEST_SECRET, TEST_KEY_ID, "X-Amz-Signature", "AKIA"):
            assert secret not in outputs, (path.name, secret)


def test_presigned_urls_appear_only_when_asked(s3, bucket):
    s3.seed(bucket, {"k": b"v"})
    root = Path(f"s3://{bucket}/")
    everyday = [repr(commands.ls(str(root), long=True)), repr(root / "k"), repr((root / "k").stat()),
                repr(commands.du(str(root))), repr((root / "k").info)]
    assert not any("Signature" in text or "Credential" in text for text in everyday)
    assert "X-Amz-Signature" in commands.presign(f"s3://{bucket}/k")
