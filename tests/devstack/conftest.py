"""Fixtures of the ``wealist up`` tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh 0700 directory outside pytest's tmp root.

    Other pytest sessions reset that root to 0700 and prune old runs while this one runs,
    which would lock the postgres user out. Leaving the mode to ``up`` tests that it lets
    the postgres user through.
    """
    parent = Path(tempfile.mkdtemp(prefix="wealist-up-test-"))
    yield parent / "data"
    shutil.rmtree(parent, ignore_errors=True)
