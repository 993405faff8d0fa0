"""Developer tasks. ``nox -l`` lists them; ``./wealist test|lint|up`` runs the same steps
from the project's own .venv without nox."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

PYTHON = ["3.11", "3.12", "3.13"]
LINT_PATHS = ["src", "tests", "bench", "loadtests", "noxfile.py"]


@nox.session(python=PYTHON[0])
def tests(session: nox.Session) -> None:
    """The whole suite against real (throwaway) PostgreSQL and Redis."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON[0])
def lint(session: nox.Session) -> None:
    """ruff (check + format), mypy --strict, and the import-linter layering contracts."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("mypy")
    session.run("lint-imports")


@nox.session(python=PYTHON[0])
def up(session: nox.Session) -> None:
    """The whole stack on this machine (embedded Postgres/Redis unless configured)."""
    session.install("-e", ".[embedded]")
    session.run("wealist", "up", *session.posargs)
