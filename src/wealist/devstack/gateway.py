"""The NGINX gateway in front of the services on one machine (``wealist up``, tests).

The configuration is the project's (``deploy/nginx``); this renders it into a prefix
directory with the two files that differ per environment: ``upstreams.conf`` (where each
service listens) and ``listen.conf`` (the gateway's port). When run as root, nginx's
workers run as ``nobody``, so the directory of temporary request bodies is theirs.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from wealist.devstack.servers import _wait_for_port, free_port

__all__ = ("CONFIG_DIR", "Gateway", "find_nginx", "render")

CONFIG_DIR = Path(__file__).resolve().parents[3] / "deploy" / "nginx"
WORKER_USER = "nobody"


def find_nginx() -> str | None:
    """The nginx binary (``NGINX``, else on ``WEALIST_SYSTEM_PATH``, which defaults to PATH
    and the sbin directories, as ``./wealist`` looks), or None."""
    explicit = os.environ.get("NGINX")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    system = os.environ.get("WEALIST_SYSTEM_PATH")
    if system is None:
        system = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("nginx", path=system)


def config_dir() -> Path:
    return Path(os.environ.get("WEALIST_GATEWAY_CONFIG_DIR", CONFIG_DIR))


def upstreams_conf(upstreams: Mapping[str, list[str]]) -> str:
    """``upstream wealist_<svc>`` blocks; each service gets one ``server`` per address."""
    lines = ["# rendered by wealist.devstack.gateway"]
    for name, addresses in sorted(upstreams.items()):
        servers = " ".join(f"server {address};" for address in addresses)
        lines.append(f"upstream wealist_{name} {{ {servers} keepalive 32; keepalive_timeout 8s; }}")
    return "\n".join(lines) + "\n"


def _worker_identity() -> tuple[str, str] | None:
    if os.geteuid() != 0:
        return None
    account = pwd.getpwnam(WORKER_USER)
    return WORKER_USER, grp.getgrgid(account.pw_gid).gr_name


def render(
    prefix: Path, upstreams: Mapping[str, list[str]], port: int, host: str = "127.0.0.1"
) -> Path:
    """Write a runnable prefix directory; returns its ``nginx.conf``."""
    prefix.mkdir(parents=True, exist_ok=True)
    for source in config_dir().glob("*.conf"):
        shutil.copyfile(source, prefix / source.name)
    (prefix / "upstreams.conf").write_text(upstreams_conf(upstreams))
    (prefix / "listen.conf").write_text(f"listen {host}:{port};\n")
    (prefix / "logs").mkdir(exist_ok=True)
    temp = prefix / "tmp"
    temp.mkdir(exist_ok=True)
    identity = _worker_identity()
    if identity is not None:  # workers buffer request bodies there
        from wealist.devstack.prepare import make_traversable

        account = pwd.getpwnam(identity[0])
        os.chown(temp, account.pw_uid, account.pw_gid)
        make_traversable(temp, identity[0])
    return prefix / "nginx.conf"


class Gateway:
    """One nginx master process serving a rendered prefix directory."""

    def __init__(
        self, prefix: Path, upstreams: Mapping[str, list[str]], port: int | None = None
    ) -> None:
        self.prefix = prefix
        self.upstreams = dict(upstreams)
        self.port = port or free_port()
        self.binary = find_nginx()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    def _command(self, *extra: str) -> list[str]:
        if self.binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx-light)")
        command = [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")]
        command += ["-e", str(self.error_log)]
        identity = _worker_identity()
        if identity is not None:
            command += ["-g", f"user {identity[0]} {identity[1]};"]
        return [*command, *extra]

    def check(self) -> str:
        """``nginx -t`` on the rendered configuration; raises with its output on failure."""
        render(self.prefix, self.upstreams, self.port)
        done = subprocess.run(self._command("-t"), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{done.stderr}")
        return done.stderr

    def start(self) -> None:
        self.check()
        with (self.prefix / "logs" / "nginx.out").open("wb") as out:
            self.proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches `up`, which stops us in order
            )
        try:
            _wait_for_port(self.port, self.proc, 15, "nginx")
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.logs()}") from exc

    def logs(self) -> str:
        with contextlib.suppress(OSError):
            return self.error_log.read_text(errors="replace")
        return ""

    def stop(self) -> None:
        """Graceful stop (SIGQUIT: finish what is in flight), then kill if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
