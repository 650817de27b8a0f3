"""FTP as a backend: ``ftp://[user[:password]@]host[:port]/path`` (and ``ftps://``, which requires TLS).

Built on the standard library's ``ftplib``: TLS (``AUTH TLS``, then a protected data channel) is used
wherever the server offers it, with its certificate checked; a server that refuses ``AUTH`` is
spoken to in the clear, unless the scheme is ``ftps://`` or ``configure_storage(..., tls=True)``.
Credentials come from the URI, :func:`tfm_jupyter.configure_storage` (``username``, ``password``,
``tls``, ``ca_file``, ``timeout``, ``connections``), or ``~/.netrc``; else anonymous.

Each ``user@host:port`` has a pool of control connections (FTP does one thing at a time on each).
``iterdir`` is one MLSD; ``stat`` one MLST.  Writes are stored under a temporary name beside the
target and renamed over it (RNFR/RNTO) once complete, so a failed upload never truncates the old
file; missing parent folders are made first (MKD).  A move within one server is one rename.
"""

from __future__ import annotations

import contextlib
import ftplib
import netrc
import posixpath
import secrets
import socket
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from .. import config, errors
from ..entries import DIRECTORY, Listing, ObjectInfo
from .pool import Pool, PooledBackend
from .writers import SPOOL_IN_MEMORY, SpooledWriter

__all__ = ["FTPBackend", "FTPSBackend"]

_REFUSED_AUTH = ("500", "502", "504", "534")


def remote_path(path: Any) -> str:
    return "/" + path.key


@dataclass(frozen=True)
class FTPTarget:
    """Where and as whom, after the URI, :func:`configure_storage` and ``~/.netrc``."""

    authority: str
    host: str
    port: int
    username: str
    password: str
    tls: bool | None  # None: where the server offers it
    options: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    @classmethod
    def resolve(cls, scheme: str, authority: str, tls: bool | None) -> FTPTarget:
        where = config.parse_authority(authority)
        options = config.options_for(scheme, authority)
        login, password = where.user or options.get("username"), options.get("password")
        if password is None:
            with contextlib.suppress(OSError, netrc.NetrcParseError):
                found = netrc.netrc().authenticators(where.host)
                if found and (login is None or found[0] == login):
                    login, password = found[0], found[2]
        return cls(authority, where.host, where.port or int(options.get("port", 21)), login or "anonymous",
                   password if password is not None else ("anonymous@" if login is None else ""),
                   options.get("tls", tls), options)

    def connect(self) -> ftplib.FTP:
        timeout = self.options.get("timeout", 15)
        location = f"ftp://{self.authority}/"
        with mapped_ftp_errors("connect", location, self):
            if self.tls is False:
                ftp = ftplib.FTP(timeout=timeout)
                ftp.connect(self.host, self.port)
                ftp.login(self.username, self.password)
            else:
                ftp = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=self.options.get("ca_file")),
                                     timeout=timeout)
                ftp.connect(self.host, self.port)
                try:
                    ftp.auth()
                except ftplib.error_perm as exc:
                    if not str(exc).startswith(_REFUSED_AUTH):
                        raise
                    if self.tls:
                        raise errors.AccessDenied(
                            f"{self.label} does not offer TLS (it refused AUTH TLS), which ftps:// and tls=True "
                            "require; use ftp:// to speak to it in the clear", location, "connect") from None
                    ftplib.FTP.login(ftp, self.username, self.password)  # TLS refused: on in the clear
                else:
                    ftp.login(self.username, self.password)
                    ftp.prot_p()
            ftp.voidcmd("TYPE I")
            return ftp


class FTPPool(Pool):
    """The control connections to one FTP server."""

    def __init__(self, target: FTPTarget, limit: int):
        super().__init__(target.connect, _quit, limit, _broken)
        self.target = target


class FTPBackend(PooledBackend):
    """Files on FTP servers."""

    label = "FTP"
    concurrency = 4
    scheme = "ftp"
    tls: bool | None = None

    def __init__(self) -> None:
        super().__init__()
        config.on_change(lambda scheme: self.close() if scheme == self.scheme else None)

    def new_pool(self, authority: str) -> FTPPool:
        target = FTPTarget.resolve(self.scheme, authority, self.tls)
        return FTPPool(target, int(target.options.get("connections", self.concurrency)))

    def mapped_errors(self, operation: str, location: str, target: Any) -> Any:
        return mapped_ftp_errors(operation, location, target)

    # -- the core -----------------------------------------------------------------------------------

    def stat(self, path: Any) -> ObjectInfo | None:
        if not path.key:
            return DIRECTORY
        try:
            with self.session(path, "MLST") as ftp:
                lines = ftp.sendcmd(f"MLST {remote_path(path)}").splitlines()
        except errors.NotFound:
            return None
        facts = next((line.strip() for line in lines[1:-1] if "=" in line), "")
        return _info(_facts(facts.split(" ", 1)[0]))

    def iter_listing_pages(self, path: Any) -> Iterator[Listing]:
        try:
            with self.session(path, "MLSD") as ftp:
                entries = list(ftp.mlsd(remote_path(path), facts=["type", "size", "modify"]))
        except (errors.NotFound, errors.NotADirectory):
            yield Listing()
            return
        children = {name: _info(facts) for name, facts in entries if facts.get("type") not in ("cdir", "pdir")}
        yield Listing(children, dir_exists=True)

    def open_read(self, path: Any) -> BinaryIO:
        """The file, fetched by one RETR into a spool (memory, then disk beyond 16 MiB), seekable."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - handed to the caller
        try:
            with self.session(path, "RETR") as ftp:
                ftp.retrbinary(f"RETR {remote_path(path)}", spool.write)
        except errors.NotFound:
            spool.close()
            if (info := self.stat(path)) is not None and info.is_dir:
                raise errors.IsADirectory("Is a directory", str(path), "open") from None
            raise
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def iter_bytes(self, path: Any, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """One RETR from ``start`` (REST), stopped once ``end`` is reached (the connection is then
        closed rather than drained)."""
        pool = self.host_pool(path)
        target, ftp = pool.target, pool.acquire()
        finished = False
        try:
            with mapped_ftp_errors("RETR", str(path), target):
                self.count("RETR")
                with ftp.transfercmd(f"RETR {remote_path(path)}", rest=start or None) as data:
                    remaining = None if end is None else end - start
                    while remaining is None or remaining > 0:
                        chunk = data.recv(65536 if remaining is None else min(65536, remaining))
                        if not chunk:
                            break
                        remaining = None if remaining is None else remaining - len(chunk)
                        yield chunk
                with contextlib.suppress(ftplib.error_temp, ftplib.error_perm):
                    ftp.voidresp()  # 226, or 426 when we closed the data connection early: in step again
                finished = True
        finally:
            pool.release(ftp, broken=not finished)

    def open_write(self, path: Any, *, exclusive: bool = False) -> BinaryIO:
        if not path.key:
            raise errors.IsADirectory("Is a directory", str(path), "open")
        return _Writer(self, path, exclusive)  # type: ignore[return-value]

    def delete(self, path: Any) -> None:
        with self.session(path, "DELE") as ftp:
            ftp.delete(remote_path(path))

    def make_dir(self, path: Any) -> None:
        with self.session(path, "MKD") as ftp:
            _make_dir(ftp, remote_path(path))

    def make_dirs(self, path: Any) -> None:
        with self.session(path, "MKD") as ftp:
            _make_parents(ftp, remote_path(path))

    def remove_dir(self, path: Any) -> None:
        with self.session(path, "RMD") as ftp:
            ftp.rmd(remote_path(path))

    # -- derived, faster ------------------------------------------------------------------------------

    def set_mtime(self, path: Any, mtime: float) -> bool:
        stamp = datetime.fromtimestamp(mtime, tz=UTC).strftime("%Y%m%d%H%M%S")
        try:
            with self.session(path, "MFMT") as ftp:
                ftp.sendcmd(f"MFMT {stamp} {remote_path(path)}")
        except errors.UnsupportedOperation:
            return False
        return True

    def rename(self, source: Any, target: Any, *, overwrite: bool = True) -> bool:
        """RNFR/RNTO on the server, over a file; a folder only onto nothing."""
        if source.authority != target.authority or source.backend is not target.backend:
            return False
        there = self.stat(target)
        if there is not None:
            if not overwrite:
                raise errors.AlreadyExists("File exists (overwrite=False)", str(target), "move")
            if there.is_dir or (self.stat(source) or DIRECTORY).is_dir:
                return False  # merging folders: copy and delete
        with self.session(source, "RNFR") as ftp:
            _make_parents(ftp, posixpath.dirname(remote_path(target)))
            ftp.rename(remote_path(source), remote_path(target))
        return True


class FTPSBackend(FTPBackend):
    """``ftps://``: FTP that refuses to go on without TLS."""

    label = "FTPS"
    scheme = "ftps"
    tls = True


def _facts(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.lower().split(";") if "=" in part)


def _info(facts: dict[str, str]) -> ObjectInfo:
    if facts.get("type", "file") in ("dir", "cdir", "pdir"):
        return DIRECTORY
    modify = facts.get("modify")
    mtime = None
    if modify:
        with contextlib.suppress(ValueError):
            mtime = datetime.strptime(modify[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    return ObjectInfo(is_file=True, is_dir=False, size=int(facts.get("size", 0) or 0), mtime=mtime)


def _make_dir(ftp: ftplib.FTP, remote: str) -> None:
    try:
        ftp.mkd(remote)
    except ftplib.error_perm:
        try:
            ftp.sendcmd(f"MLST {remote}")  # there already (as a folder) is fine
        except ftplib.error_perm:
            raise errors.AccessDenied("cannot make the folder", remote, "MKD") from None


def _make_parents(ftp: ftplib.FTP, remote_dir: str) -> None:
    """``mkdir -p`` on the server: one MKD per level from the top (an existing one answers 550)."""
    parts = [part for part in remote_dir.split("/") if part]
    for depth in range(1, len(parts) + 1):
        with contextlib.suppress(ftplib.error_perm):
            ftp.mkd("/" + "/".join(parts[:depth]))


def _quit(ftp: ftplib.FTP) -> None:
    try:
        ftp.quit()
    except Exception:
        ftp.close()


def _broken(ftp: ftplib.FTP, exc: BaseException) -> bool:
    """A refused command leaves the connection usable; anything else may not."""
    return not isinstance(exc, (errors.NotFound, errors.AccessDenied, errors.AlreadyExists, errors.IsADirectory,
                                errors.NotADirectory, errors.DirectoryNotEmpty, errors.UnsupportedOperation))


@contextlib.contextmanager
def mapped_ftp_errors(operation: str, location: str, target: FTPTarget | None = None) -> Iterator[None]:
    """ftplib's and the socket's failures as :mod:`tfm_jupyter.errors`, saying what to do."""
    where = target.label if target is not None else location
    try:
        yield
    except errors.StorageError:
        raise
    except ftplib.error_perm as exc:
        raise _refusal(str(exc), operation, location, where) from None
    except ftplib.error_temp as exc:
        raise errors.ServiceError(f"the FTP server {where} is busy or failing ({exc}); try again later",
                                  location, operation) from None
    except ssl.SSLError as exc:
        raise errors.AccessDenied(
            f"TLS with {where} failed ({exc}): its certificate is not trusted; give configure_storage("
            "'ftp://HOST:PORT', ca_file='…') or tls=False to speak in the clear", location, operation) from None
    except TimeoutError:
        raise errors.S3Timeout(f"FTP {operation} at {where} timed out (configure_storage(..., timeout=...))",
                               location, operation) from None
    except (ConnectionError, EOFError, socket.gaierror, ftplib.error_proto, ftplib.error_reply) as exc:
        raise errors.EndpointUnreachable(f"the FTP server {where} cannot be reached or hung up "
                                         f"({type(exc).__name__}: {exc}); check the host and port",
                                         location, operation) from None


def _refusal(reply: str, operation: str, location: str, where: str) -> errors.StorageError:
    code, text = reply[:3], reply[4:]
    if code == "530":
        return errors.AccessDenied(f"FTP login to {where} failed ({text}): check the user and password "
                                   "(the URI, ~/.netrc or configure_storage)", location, operation)
    if code in ("500", "502", "504"):
        return errors.UnsupportedOperation(f"the FTP server {where} does not support {operation} ({text})")
    if code == "550" and any(word in text.lower() for word in ("permission", "denied", "privilege")):
        return errors.AccessDenied(f"the FTP server {where} refused {operation}: {text}", location, operation)
    if code == "550" and "not a directory" in text.lower():
        return errors.NotADirectory("Not a directory", location, operation)
    if code in ("550", "450") or (code == "501" and "no such" in text.lower()):
        return errors.NotFound(f"No such file or directory ({text})", location, operation)
    return errors.StorageError(f"the FTP server {where} refused {operation}: {reply}", location, operation)


class _Writer(SpooledWriter):
    """Spools the file; on success stores it under a temporary name and renames it into place."""

    def __init__(self, backend: FTPBackend, path: Any, exclusive: bool):
        self._backend, self._path, self._exclusive = backend, path, exclusive
        super().__init__(str(path))

    def _commit(self, spool: Any, size: int) -> None:
        target = remote_path(self._path)
        directory, name = posixpath.split(target)
        temp = posixpath.join(directory, f".{name}.tfm-{secrets.token_hex(4)}.part")
        if self._exclusive and self._backend.stat(self._path) is not None:
            raise errors.AlreadyExists("File exists", str(self._path), "open")
        with self._backend.session(self._path, "STOR") as ftp:
            _make_parents(ftp, directory)
            try:
                ftp.storbinary(f"STOR {temp}", spool)
                ftp.rename(temp, target)
            except BaseException:
                with contextlib.suppress(Exception):
                    ftp.delete(temp)
                raise

