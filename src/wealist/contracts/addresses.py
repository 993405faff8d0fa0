"""Where services listen by default: how one service finds another when nothing is set.

``WEALIST_SERVICE_URLS`` (a JSON object, service name -> base URL) overrides these, e.g. in
Kubernetes (``{"noti": "http://noti:8002"}``) or for ``wealist serve all`` on one port.
"""

from __future__ import annotations

__all__ = ("DEFAULT_PORTS", "default_url")

DEFAULT_PORTS: dict[str, int] = {
    "auth": 8080,
    "user": 8081,
    "board": 8000,
    "chat": 8001,
    "noti": 8002,
    "storage": 8003,
    "video": 8004,
    "ops": 8005,
}


def default_url(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_PORTS[service]}"
