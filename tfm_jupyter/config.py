"""``configure_storage(prefix, **options)``: the one way to configure every backend but S3.

A prefix is a URI's beginning: ``"sftp://"`` (every SFTP host), ``"sftp://host:2222"`` (one host
and port), ``"sftp://bob@host/data"`` (one user's folder there), ``"az://"``, ``"gs://"`` …  A path
gets the options of the most specific prefix that matches it (a user and a port over none, then the
longest path); a later call for the same prefix replaces the earlier one.  Secrets (passwords,
keys, tokens, connection strings) are registered with :func:`tfm_jupyter.errors.redact` and never
printed: :class:`StorageOptions` shows them as ``'***'``.

A password written in a URI (``ftp://bob:secret@host/x``) never stays in the path: it is taken out
when the path is parsed (:func:`take_password`) and kept here, for that user on that host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import errors

__all__ = ["SECRET_OPTIONS", "Authority", "StorageOptions", "configure_storage", "on_change", "options_for",
           "parse_authority", "reset_storage_configuration", "restore", "snapshot", "take_password"]

SECRET_OPTIONS = frozenset({"password", "passphrase", "key", "account_key", "connection_string", "sas_token",
                            "token", "credential", "client_secret", "private_key"})


@dataclass(frozen=True)
class Authority:
    """``user@host:port`` taken apart (each part may be missing)."""

    user: str | None
    host: str
    port: int | None

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{user}{self.host}" + (f":{self.port}" if self.port else "")


def parse_authority(text: str) -> Authority:
    """``"bob@host:2222"`` -> Authority('bob', 'host', 2222); a password (``bob:pw@``) must be taken out
    first (:func:`take_password`)."""
    user, _, hostport = text.rpartition("@")
    host, port = hostport, None
    if hostport.startswith("["):  # [ipv6]:port
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] or None
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    if port is not None and not str(port).isdigit():
        raise ValueError(f"{text!r}: the port must be a number")
    return Authority(user or None, host, int(port) if port else None)


class StorageOptions(Mapping[str, Any]):
    """The options of one prefix (read-only), secrets hidden in every repr."""

    def __init__(self, prefix: str, options: Mapping[str, Any]):
        self.prefix, self._options = prefix, dict(options)

    def __getitem__(self, name: str) -> Any:
        return self._options[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={'***' if name in SECRET_OPTIONS else value!r}"
                          for name, value in self._options.items())
        return f"StorageOptions({self.prefix!r}, {shown})"


_lock = threading.Lock()
_prefixes: dict[str, StorageOptions] = {}
_listeners: list[Callable[[str], None]] = []


def _split_prefix(prefix: str) -> tuple[str, Authority | None, str]:
    scheme, found, rest = prefix.partition("://")
    if not found or not scheme:
        raise ValueError(f"a prefix starts with a scheme, such as 'sftp://' or 'sftp://host:2222' (not {prefix!r})")
    authority, _, path = rest.partition("/")
    return scheme.lower(), parse_authority(authority) if authority else None, path.strip("/")


def configure_storage(prefix: str, **options: Any) -> StorageOptions:
    """Options for every path that starts with ``prefix`` (see the module's doc); a later call for
    the same prefix replaces the earlier one; no options removes the prefix's settings.

    ``configure_storage("sftp://host:2222", username="me", key_filename="~/.ssh/lab", known_hosts=...)``,
    ``configure_storage("ftp://host:2121", username="u", password="…")``,
    ``configure_storage("az://", connection_string="…")``, ``configure_storage("gs://", token="anon")``.
    """
    scheme, authority, path = _split_prefix(prefix)
    key = f"{scheme}://{authority or ''}" + (f"/{path}" if path else "")
    for name, value in options.items():
        if name in SECRET_OPTIONS and isinstance(value, str):
            errors.register_secret(value)
    stored = StorageOptions(key, options)
    with _lock:
        if options:
            _prefixes[key] = stored
        else:
            _prefixes.pop(key, None)
    for listener in list(_listeners):
        listener(scheme)
    return stored


def options_for(scheme: str, authority: str, path: str = "") -> dict[str, Any]:
    """The options of the most specific prefix matching ``scheme://authority/path`` (``{}`` if none)."""
    wanted = parse_authority(authority) if authority else None
    best, best_rank = None, None
    with _lock:
        candidates = list(_prefixes.values())
    for options in candidates:
        their_scheme, their_authority, their_path = _split_prefix(options.prefix)
        if their_scheme != scheme or not _matches(their_authority, wanted):
            continue
        if their_path and not (path == their_path or path.startswith(their_path + "/")):
            continue
        rank = (their_authority is not None, bool(their_authority and their_authority.user),
                bool(their_authority and their_authority.port), len(their_path))
        if best_rank is None or rank > best_rank:
            best, best_rank = options, rank
    found = dict(best) if best is not None else {}
    if wanted is not None and wanted.user and "password" not in found:
        password = _url_passwords.get((scheme, wanted.user, wanted.host, wanted.port))
        if password is not None:
            found["password"] = password
    return found


def _matches(theirs: Authority | None, wanted: Authority | None) -> bool:
    if theirs is None:
        return True
    if wanted is None or theirs.host.lower() != wanted.host.lower():
        return False
    return (theirs.port is None or theirs.port == wanted.port) and (theirs.user is None or theirs.user == wanted.user)


def snapshot() -> tuple[dict[str, StorageOptions], dict[Any, str]]:
    """Every prefix's options and the passwords taken from URIs (for :func:`restore` in another
    process, such as a Dask worker)."""
    with _lock:
        return dict(_prefixes), dict(_url_passwords)


def restore(taken: tuple[dict[str, StorageOptions], dict[Any, str]]) -> None:
    """Take the configuration another process's :func:`snapshot` gave (its secrets redacted here too)."""
    prefixes, passwords = taken
    for options in prefixes.values():
        for name, value in options.items():
            if name in SECRET_OPTIONS and isinstance(value, str):
                errors.register_secret(value)
    for password in passwords.values():
        errors.register_secret(password)
    with _lock:
        schemes = {_split_prefix(prefix)[0] for prefix in (*_prefixes, *prefixes)}
        _prefixes.clear()
        _prefixes.update(prefixes)
        _url_passwords.clear()
        _url_passwords.update(passwords)
    for scheme in schemes:
        for listener in list(_listeners):
            listener(scheme)


def reset_storage_configuration() -> None:
    """Forget every :func:`configure_storage` setting and every password taken from a URI."""
    with _lock:
        schemes = {_split_prefix(prefix)[0] for prefix in _prefixes}
        _prefixes.clear()
        _url_passwords.clear()
    for scheme in schemes:
        for listener in list(_listeners):
            listener(scheme)


def on_change(listener: Callable[[str], None]) -> None:
    """``listener(scheme)`` runs after each :func:`configure_storage` (backends drop their connections)."""
    _listeners.append(listener)


# -- passwords written in URIs ----------------------------------------------------------------------

_url_passwords: dict[tuple[str, str, str, int | None], str] = {}


def take_password(scheme: str, authority: str) -> str:
    """``"bob:secret@host"`` -> ``"bob@host"``, keeping ``secret`` for bob on host (and registering it
    as a secret), so no path, repr or message ever holds it."""
    userinfo, at, hostport = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return authority
    user, _, password = userinfo.partition(":")
    errors.register_secret(password)
    where = parse_authority(f"{user}@{hostport}")
    with _lock:
        _url_passwords[(scheme, user, where.host, where.port)] = password
    return f"{user}@{hostport}"
