"""SSH connections for the SFTP backend: who to be and which key to trust for a host, and a pool of
SFTP channels over a few SSH transports.

Everything ``ssh`` users expect is honoured without configuration: ``~/.ssh/config`` (HostName, Port,
User, IdentityFile, UserKnownHostsFile), the ssh-agent and the default keys, and ``~/.ssh/known_hosts``.
:func:`tfm_jupyter.configure_storage` overrides any of it per host (``username``, ``password``,
``key_filename``, ``passphrase``, ``known_hosts``, ``port``, ``timeout``).  A host whose key is not
known is refused (RejectPolicy), never trusted on first use.

Channels are opened on demand: up to ``CHANNELS_PER_TRANSPORT`` on one SSH transport (OpenSSH allows
10 sessions per connection), then another transport, up to ``MAX_CHANNELS``; each is used by one
thread at a time and returned to the pool.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..config import options_for, parse_authority
from .pool import Pool

__all__ = ["CHANNELS_PER_TRANSPORT", "MAX_CHANNELS", "ChannelPool", "SSHTarget", "mapped_ssh_errors"]

CHANNELS_PER_TRANSPORT = 8
MAX_CHANNELS = 32


@dataclass(frozen=True)
class SSHTarget:
    """Where and as whom to connect, after ``~/.ssh/config`` and :func:`configure_storage`."""

    authority: str
    hostname: str
    port: int
    username: str
    options: dict[str, Any]
    key_filenames: tuple[str, ...]
    known_hosts: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.username}@{self.hostname}:{self.port}"

    @classmethod
    def resolve(cls, authority: str) -> SSHTarget:
        import paramiko

        where = parse_authority(authority)
        options = options_for("sftp", authority)
        ssh_config: dict[str, Any] = {}
        config_file = os.path.expanduser(options.get("ssh_config", "~/.ssh/config"))
        if os.path.isfile(config_file):
            ssh_config = paramiko.SSHConfig.from_path(config_file).lookup(where.host)
        keys = options.get("key_filename") or ssh_config.get("identityfile") or ()
        known = options.get("known_hosts") or ssh_config.get("userknownhostsfile", "").split() or ()
        return cls(authority=authority, hostname=ssh_config.get("hostname", where.host),
                   port=int(where.port or options.get("port") or ssh_config.get("port", 22)),
                   username=where.user or options.get("username") or ssh_config.get("user") or getpass.getuser(),
                   options=options, key_filenames=tuple(os.path.expanduser(k) for k in _listed(keys)),
                   known_hosts=tuple(os.path.expanduser(k) for k in _listed(known)))

    def connect(self) -> Any:
        """A connected ``paramiko.SSHClient`` (the host key checked against known hosts)."""
        import paramiko

        client = paramiko.SSHClient()
        with mapped_ssh_errors("connect", f"sftp://{self.authority}/", self):
            client.load_system_host_keys()
            for known in self.known_hosts:
                if os.path.isfile(known):
                    client.load_host_keys(known)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            options, timeout = self.options, self.options.get("timeout", 10)
            client.connect(self.hostname, self.port, username=self.username, password=options.get("password"),
                           key_filename=list(self.key_filenames) or None, passphrase=options.get("passphrase"),
                           timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                           allow_agent=options.get("allow_agent", True),
                           look_for_keys=options.get("look_for_keys", True))
        return client


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class ChannelPool:
    """SFTP channels to one host, opened on demand over as few SSH transports as OpenSSH allows."""

    def __init__(self, target: SSHTarget):
        self.target = target
        self._clients: list[list[Any]] = []  # [SSHClient, channels on it]
        self._owner: dict[int, list[Any]] = {}
        self._connect_lock = threading.Lock()
        self._pool = Pool(self._new_channel, self._drop_channel, MAX_CHANNELS, _broken)
        self.borrow = self._pool.borrow
        self.acquire, self.release = self._pool.acquire, self._pool.release

    def _new_channel(self) -> Any:
        with self._connect_lock:
            entry = next((e for e in self._clients if e[1] < CHANNELS_PER_TRANSPORT
                          and e[0].get_transport() is not None and e[0].get_transport().is_active()), None)
            if entry is None:
                entry = [self.target.connect(), 0]
                self._clients.append(entry)
            with mapped_ssh_errors("open an SFTP channel", f"sftp://{self.target.authority}/", self.target):
                sftp = entry[0].open_sftp()
            entry[1] += 1
            self._owner[id(sftp)] = entry
            return sftp

    def _drop_channel(self, sftp: Any) -> None:
        with self._connect_lock:
            entry = self._owner.pop(id(sftp), None)
            if entry is not None:
                entry[1] -= 1
        sftp.close()

    def close(self) -> None:
        self._pool.close()
        with self._connect_lock:
            clients, self._clients = self._clients, []
        for client, _ in clients:
            with contextlib.suppress(Exception):
                client.close()


def _broken(sftp: Any, exc: BaseException) -> bool:
    """A refused request leaves the channel usable; a dead link does not."""
    return isinstance(exc, (EOFError, ConnectionError)) or bool(getattr(sftp.sock, "closed", True))


@contextlib.contextmanager
def mapped_ssh_errors(operation: str, location: str, target: SSHTarget | None = None) -> Iterator[None]:
    """paramiko's and the socket's failures as :mod:`tfm_jupyter.errors`, saying what to do."""
    import paramiko

    where = target.label if target is not None else location
    try:
        yield
    except errors.StorageError:
        raise
    except FileNotFoundError:
        raise errors.NotFound("No such file or directory", location, operation) from None
    except PermissionError:
        raise errors.AccessDenied(f"Permission denied on the SFTP server ({where})", location, operation) from None
    except paramiko.AuthenticationException:
        raise errors.AccessDenied(
            f"SFTP login to {where} failed: check the user name and that the server accepts your key (the "
            "ssh-agent, ~/.ssh/config's IdentityFile) or give configure_storage('sftp://HOST:PORT', "
            "username=..., key_filename=... | password=...)", location, operation) from None
    except paramiko.BadHostKeyException:
        raise errors.AccessDenied(
            f"the host key of {where} does not match the one in known_hosts: someone may be in between; if the "
            "server's key really changed, replace its line in ~/.ssh/known_hosts", location, operation) from None
    except paramiko.SSHException as exc:
        if "known_hosts" in str(exc) or "not found in" in str(exc):
            raise errors.AccessDenied(
                f"unknown host key for {where}: it is never trusted blindly; add it with `ssh-keyscan -p PORT HOST "
                ">> ~/.ssh/known_hosts` (after checking it), or configure_storage('sftp://HOST:PORT', "
                "known_hosts='path')", location, operation) from None
        raise errors.ServiceError(f"SFTP {operation} at {where} failed: {exc}", location, operation) from None
    except TimeoutError:
        raise errors.S3Timeout(f"SFTP {operation} at {where} timed out (configure_storage(..., timeout=...))",
                               location, operation) from None
    except (ConnectionError, EOFError, socket.gaierror) as exc:
        raise errors.EndpointUnreachable(
            f"cannot reach the SFTP server {where} ({type(exc).__name__}: {exc}); check the host and port",
            location, operation) from None
    except OSError as exc:  # the server's other refusals (SSH_FX_FAILURE …)
        raise errors.StorageError(f"SFTP {operation} failed: {exc.strerror or exc}", location, operation) from None
