"""``wealist serve`` replaces a dead worker, but not one that cannot start (issue 18).

Granian respawns a worker that exits, and stops by itself only when a respawned worker
dies within 5.5 s; a start-up that takes longer to fail is stopped by ``wealist serve``'s
start guard after a few tries (exit 1, the reason last in the log) instead of respawning
for ever. The database here accepts connections and never answers, so each start-up
fails after its ``connect_timeout``, later than Granian's window.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from wealist.devstack.servers import free_port
from wealist.startguard import START_RETRIES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_that_keeps_failing_to_start_stops_the_service() -> None:
    with socket.socket() as silent:  # listens, never answers: connects hang until timeout
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        db_port = silent.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEALIST_")}
        env["WEALIST_CHAT_DATABASE_URL"] = (
            f"postgresql://wealist@127.0.0.1:{db_port}/chat_db?connect_timeout=6&sslmode=disable"
        )
        env["WEALIST_REDIS_URL"] = "redis://127.0.0.1:1/0"
        env["WEALIST_LOG_FORMAT"] = "console"
        done = subprocess.run(
            [sys.executable, "-m", "wealist", "serve", "chat", "--port", str(free_port())],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one log, in order, as `up` keeps it
            text=True,
            timeout=300,  # generous: only to fail
            check=False,
        )
    log = done.stdout
    assert done.returncode == 1, log
    tries = 1 + START_RETRIES  # one worker: its first start and the retries
    assert log.count("ASGI lifespan startup failed") == tries, log
    assert log.count("Respawning worker-1") == tries, log  # the last respawn is refused
    refusal = f"wealist serve chat: {tries} worker start-ups in a row did not finish"
    assert log.count(refusal) == 1, log
    assert "Worker crash loop detected" not in log  # Granian's own check never saw it
    # The reason is the last thing said before the service stops.
    assert log.rindex("ASGI lifespan startup failed") < log.index(refusal)
    assert log.index(refusal) < log.index("Shutting down granian")
    assert log.strip().endswith("Granian shutdown completed, see ya!"), log
