"""SFTP and FTP through everything above the seam, against OpenSSH's sshd and pyftpdlib: copy, move and
sync in both directions with S3 and local folders, find/grep, the magics' commands, the browser, the
fsspec filesystem and the meter; requests counted at the servers; configuration, trust and secrets."""

import datetime
import ipaddress
import logging
import os
import uuid

import pytest
from widget_driver import User, focus, names, press

from tfm_jupyter import Path, commands, configure_storage, filesystem, find, grep, sync
from tfm_jupyter.browser import browse

TREE = {"a.txt": b"alpha", "sub/b.csv": b"x,y\n1,2\n", "sub/deep/c.txt": b"gamma"}


def put_tree(root):
    for name, data in TREE.items():
        (root / name).backend.write_bytes(root / name, data)


def read_tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(params=["sftp", "ftp"])
def remote(request):
    return request.getfixturevalue(f"{request.param}_root")


# -- transfers in both directions --------------------------------------------------------------------------


def test_copy_move_and_sync_with_s3_and_local_both_ways(remote, s3, bucket, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    put_tree(Path(local))
    s3_root = Path(f"s3://{bucket}/")
    Path(local).copy(remote / "from-local")
    (remote / "from-local").copy(s3_root / "from-remote")
    assert {k: s3.body(bucket, k) for k in s3.keys(bucket)} == {f"from-remote/{k}": v for k, v in TREE.items()}
    (s3_root / "from-remote").move(remote / "back-from-s3")
    assert s3.keys(bucket) == [] and read_tree(remote / "back-from-s3") == TREE
    (remote / "back-from-s3").copy(tmp_path / "down")
    assert read_tree(Path(tmp_path / "down")) == TREE
    first, second = sync(remote / "back-from-s3", s3_root / "mirror"), sync(remote / "back-from-s3", s3_root / "mirror")
    assert len(first.copied) == 3 and second.copied == []
    first, second = sync(s3_root / "mirror", remote / "mirror"), sync(s3_root / "mirror", remote / "mirror")
    assert len(first.copied) == 3 and second.copied == []  # the copies got S3's times
    assert read_tree(remote / "mirror") == TREE


def test_a_move_within_the_server_is_one_rename(remote, sshd, ftpd):
    put_tree(remote / "tree")
    before_ftp = ftpd.counted()
    sshd.mark()
    (remote / "tree").move(remote / "renamed")
    if remote.scheme == "sftp":
        assert sshd.requests()["posix-rename"] == 1 and not sshd.requests()["open"]
    else:
        assert (ftpd.counted() - before_ftp)["RNTO"] == 1 and not (ftpd.counted() - before_ftp)["RETR"]
    assert read_tree(remote / "renamed") == TREE and not (remote / "tree").exists()


def test_iterdir_is_one_directory_listing_at_the_server(remote, sshd, ftpd):
    put_tree(remote)
    sshd.mark()
    before_ftp = ftpd.counted()
    assert sorted(p.name for p in remote.iterdir()) == ["a.txt", "sub"]
    if remote.scheme == "sftp":
        assert sshd.requests() == {"opendir": 1, "closedir": 1}
    else:
        listed = ftpd.counted() - before_ftp
        assert listed["MLSD"] == 1 and not listed["MLST"] and not listed["LIST"]


def test_find_grep_and_the_commands(remote, tmp_path):
    put_tree(remote)
    assert sorted(p.relative_to(remote).as_posix() for p in find(remote, name="*.txt")) == ["a.txt", "sub/deep/c.txt"]
    assert [m.line for m in grep("1,2", remote)] == ["1,2"]
    commands.cp([str(remote / "sub")], f"{tmp_path}/copied/", recursive=True)
    assert read_tree(Path(tmp_path / "copied" / "sub")) == {"b.csv": TREE["sub/b.csv"],
                                                             "deep/c.txt": TREE["sub/deep/c.txt"]}
    listing = commands.ls(str(remote))
    assert [entry.name for entry in listing.entries] == ["sub", "a.txt"]
    assert commands.du(str(remote)).bytes == sum(len(v) for v in TREE.values())
    commands.rm([str(remote / "sub")], recursive=True, yes=True)
    assert sorted(p.name for p in remote.iterdir()) == ["a.txt"]


def test_a_remote_uri_is_never_taken_for_a_local_name(remote):
    commands.cd(remote)
    try:
        assert commands.resolve("a.txt") == remote / "a.txt"
    finally:
        commands.cd(None)
    with pytest.raises(commands.CommandError, match="no storage backend serves nosuch://"):
        commands.resolve("nosuch://host/x")
    assert not os.path.exists("nosuch:")


def test_the_browser_lists_copies_to_s3_and_deletes(remote, s3, bucket):
    put_tree(remote)
    b = browse(remote, f"s3://{bucket}/")
    b.wait()
    assert names(b.left) == ["a.txt", "sub"]
    focus(b, "left", "sub")
    user = User(b, ("Copy", None, False))
    press(b, "copy")
    assert s3.keys(bucket) == ["sub/b.csv", "sub/deep/c.txt"] and names(b.right) == ["sub"]
    focus(b, "right", "sub")
    user.answers += [("Copy", None, False), ("Overwrite", None, False)]
    press(b, "copy", "right")  # and back, into the SFTP/FTP pane, over the same names
    focus(b, "left", "a.txt")
    user.answers.append(("Delete", None, False))
    press(b, "delete")
    user.stop()
    assert names(b.left) == ["sub"] and read_tree(remote) == {k: v for k, v in TREE.items() if k != "a.txt"}


def test_the_fsspec_filesystem_and_the_meter_speak_every_backend(remote):
    from tfm_jupyter import meter

    put_tree(remote)
    fs = filesystem(remote.scheme)
    base = f"{remote.authority}/{remote.key}"
    start = meter.reading()
    assert fs.cat_file(f"{base}/a.txt") == b"alpha"
    assert sorted(fs.find(base)) == [f"{base}/{k}" for k in sorted(TREE)]
    used = meter.reading() - start
    label = "SFTP" if remote.scheme == "sftp" else "FTP"
    assert used.by_backend()[label] >= 2 and f"{label} request" in used.summary()


# -- configuration, trust and secrets ---------------------------------------------------------------------


def test_zero_configuration_from_the_users_ssh_config(sshd, monkeypatch, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host lab\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n  IdentityFile {sshd.client_key}\n"
        f"  UserKnownHostsFile {sshd.known_hosts}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    folder = Path(f"sftp://lab{sshd.root}/zero-{uuid.uuid4().hex[:8]}")
    (folder / "hello.txt").backend.write_bytes(folder / "hello.txt", b"configured by ~/.ssh/config")
    assert (folder / "hello.txt").read_text() == "configured by ~/.ssh/config"


def test_an_unknown_host_key_is_refused(sshd, tmp_path):
    (tmp_path / "empty_known_hosts").write_text("")
    configure_storage(f"sftp://127.0.0.1:{sshd.port}", **{**sshd.options(), "known_hosts": str(tmp_path / "empty")})
    with pytest.raises(PermissionError, match="unknown host key"):
        Path(sshd.uri("anything")).exists()


def test_a_wrong_key_is_refused_without_showing_the_passphrase(sshd, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "kept-secret-phrase", "-f", str(tmp_path / "k")],
                   check=True)
    configure_storage(f"sftp://127.0.0.1:{sshd.port}", **{**sshd.options(), "key_filename": str(tmp_path / "k"),
                                                          "passphrase": "kept-secret-phrase"})
    with pytest.raises(PermissionError) as info:
        Path(sshd.uri("x")).exists()
    assert "login" in str(info.value) and "kept-secret-phrase" not in str(info.value)


def test_an_ftp_password_in_the_uri_is_used_and_never_shown(ftpd, caplog):
    uri = f"ftp://{ftpd.user}:{ftpd.password}@127.0.0.1:{ftpd.port}/pw-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.DEBUG):
        folder = Path(uri)
        (folder / "f.txt").backend.write_bytes(folder / "f.txt", b"in")
        shown = [str(folder), repr(folder), repr(list(folder.iterdir())), repr(commands.ls(str(folder)))]
        with pytest.raises(FileNotFoundError) as info:
            (folder / "missing.txt").read_bytes()
        shown.append(f"{info.value} {info.value!r}")
    assert ftpd.password not in caplog.text + "\n".join(shown)
    assert (folder / "f.txt").read_bytes() == b"in"


def test_ftp_credentials_from_netrc(ftpd, monkeypatch, tmp_path):
    (tmp_path / ".netrc").write_text(f"machine 127.0.0.1 login {ftpd.user} password {ftpd.password}\n")
    os.chmod(tmp_path / ".netrc", 0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = Path(f"ftp://127.0.0.1:{ftpd.port}/netrc-{uuid.uuid4().hex[:8]}")
    folder.mkdir()
    assert folder.is_dir() and (ftpd.dir / folder.name).is_dir()


def test_a_wrong_ftp_password_is_a_permission_error_that_says_what_to_do(ftpd):
    configure_storage(f"ftp://127.0.0.1:{ftpd.port}", password="not-the-password")
    with pytest.raises(PermissionError, match="login"):
        Path(ftpd.uri("x")).exists()


# -- FTPS ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ftps_server(tmp_path_factory):
    """pyftpdlib's TLS handler with a certificate made for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from servers import FTPServer

    folder = tmp_path_factory.mktemp("ftps")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server = FTPServer(tls=(folder / "cert.pem", folder / "key.pem")).start()
    yield server, folder / "cert.pem"
    server.stop()


def test_ftp_uses_tls_where_the_server_offers_it(ftps_server):
    server, cert = ftps_server
    configure_storage(f"ftp://127.0.0.1:{server.port}", password=server.password, ca_file=str(cert))
    folder = Path(server.uri(f"tls-{uuid.uuid4().hex[:8]}"))
    (folder / "secret.txt").backend.write_bytes(folder / "secret.txt", b"over TLS")
    assert (folder / "secret.txt").read_bytes() == b"over TLS"
    assert server.counted()["AUTH"] >= 1 and server.counted()["PROT"] >= 1


def test_ftps_refuses_a_server_without_tls_and_an_untrusted_certificate(ftpd, ftps_server):
    configure_storage(f"ftps://127.0.0.1:{ftpd.port}", password=ftpd.password)
    with pytest.raises(OSError):
        Path(f"ftps://{ftpd.user}@127.0.0.1:{ftpd.port}/x").exists()
    server, _ = ftps_server
    configure_storage(f"ftp://127.0.0.1:{server.port}", password=server.password)  # no ca_file: not trusted
    with pytest.raises(PermissionError, match="certificate"):
        Path(server.uri("x")).exists()


def test_completion_and_sql_reach_the_remote_storage(remote):
    from tfm_jupyter import sql
    from tfm_jupyter.completion import s3_completions

    put_tree(remote)
    assert s3_completions(f"Path('{remote}/s") == ("s", ["sub/"])

    frame = sql(f"SELECT * FROM read_csv('{remote}/sub/b.csv')")
    assert frame.to_dict("list") == {"x": [1], "y": [2]}
