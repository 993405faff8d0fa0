"""Registry of the deployable services: name -> where its spec lives (imported lazily).

Strings keep ``wealist serve chat`` from importing the board code.
"""

from __future__ import annotations

from importlib import import_module

from wealist.core.spec import ServiceSpec

__all__ = ("SERVICES", "spec", "specs")

SERVICES: dict[str, str] = {
    "auth": "wealist.auth.service",
    "user": "wealist.user.service",
    "board": "wealist.board.service",
    "chat": "wealist.chat.service",
    "noti": "wealist.noti.service",
    "storage": "wealist.storage.service",
    "video": "wealist.video.service",
    "ops": "wealist.ops.service",
}


def spec(name: str) -> ServiceSpec:
    """The spec of one service; raises KeyError with the known names."""
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    found: ServiceSpec = import_module(SERVICES[name]).SERVICE
    return found


def specs(name: str) -> list[ServiceSpec]:
    """``all`` -> every spec, else the one named."""
    return [spec(n) for n in SERVICES] if name == "all" else [spec(name)]
