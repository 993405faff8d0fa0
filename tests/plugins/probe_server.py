"""Granian target for test processes: a real service spec with other route handlers.

``WEALIST_TEST_SERVICE`` names the spec and ``WEALIST_TEST_ROUTES`` the handlers, so a
kernel test can run probe routes in a real process (``service_process(..., routes=...)``).
"""

from __future__ import annotations

import os
from dataclasses import replace

from litestar import Litestar

from wealist.core.app import build_app
from wealist.services import spec


def create_app() -> Litestar:
    chosen = replace(
        spec(os.environ["WEALIST_TEST_SERVICE"]), routes=os.environ["WEALIST_TEST_ROUTES"]
    )
    return build_app(chosen)


if __name__ == "__main__":
    import sys

    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        "tests.plugins.probe_server:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address="127.0.0.1",
        port=int(sys.argv[1]),
        workers=1,
        loop=Loops.uvloop,
        log_access=False,
    ).serve()
