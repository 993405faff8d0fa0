"""The image's HEALTHCHECK: is the service that PID 1 serves ready?

PID 1 is ``wealist serve <svc> [--port N]`` (the image's entrypoint): its command line
names the service; the port is ``--port``, else ``WEALIST_<SVC>_PORT`` / ``WEALIST_PORT``,
else the service's own. Exit 0 when ``/health/ready`` answers 200, else 1. A container
running anything but ``serve`` (``migrate all``) has nothing to check: exit 0.
Standard library only, so it costs no import of wealist.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PORTS = {
    "auth": 8080,
    "user": 8081,
    "board": 8000,
    "chat": 8001,
    "noti": 8002,
    "storage": 8003,
    "video": 8004,
    "ops": 8005,
    "all": 8090,
}


def target(argv: list[str], environ: dict[str, str]) -> int | None:
    """The port ``wealist serve ...`` listens on, or None when ``argv`` serves nothing."""
    if "serve" not in argv:
        return None
    rest = argv[argv.index("serve") + 1 :]
    service = next((a for a in rest if not a.startswith("-")), "all")
    for i, arg in enumerate(rest):
        if arg == "--port" and i + 1 < len(rest):
            return int(rest[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
    for name in (f"WEALIST_{service.upper()}_PORT", "WEALIST_PORT"):
        if environ.get(name, "0") not in ("", "0"):
            return int(environ[name])
    return PORTS[service]


def main(pid: str = "1") -> int:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    argv = [part.decode() for part in raw.split(b"\0") if part]
    port = target(argv, dict(os.environ))
    if port is None:
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return 0 if r.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
