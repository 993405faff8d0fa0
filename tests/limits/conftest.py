"""Fixtures of the limit tests: ``wealist serve`` processes started once per module."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.limits.support import OPS_ADMIN
from tests.plugins.harness import Environment, ServiceProcess, start_service


@pytest.fixture(scope="package")
async def logs_dir() -> AsyncIterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="wealist-limits-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="package")
async def every_service(environment: Environment, logs_dir: Path) -> AsyncIterator[ServiceProcess]:
    """Every service in one production-profile process, each behind its own router with
    its own envelope and the kernel's default body limit (1 MiB)."""
    found = await start_service(
        environment,
        "all",
        logs_dir,
        WEALIST_PROFILE="production",
        WEALIST_OPS_ADMIN_EMAILS=OPS_ADMIN,
        WEALIST_SHUTDOWN_DRAIN_S="2",  # a short stop after the slow clients of T34
        # socket frame budget: 2 a second (bursts of 4), closed after 5 refusals in a row
        WEALIST_CHAT_WS_MESSAGES_PER_S="2",
        WEALIST_CHAT_WS_RATE_STRIKES="5",
        WEALIST_BOARD_WS_FRAMES_PER_S="2",
        WEALIST_BOARD_WS_RATE_STRIKES="5",
    )
    try:
        yield found
    finally:
        found.kill()  # no drain to wait for: its stop is not what these tests are about
