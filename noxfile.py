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


@nox.session(python=PYTHON[0])
def loadtest(session: nox.Session) -> None:
    """Locust against the whole stack, gated on loadtests/budgets.toml.

    ``nox -s loadtest -- smoke`` (CI, about a minute), ``steady`` (10 min), ``soak`` (1 h);
    options follow the profile: ``--users N``, ``--run-time 4h``, ``--enforce tight``,
    ``--set outer.rest.avg_ms=1``. Reports: loadtests/results/<profile>/.
    """
    session.install("-e", ".[embedded,load]")
    session.run("python", "-m", "loadtests", "run", *(session.posargs or ["smoke"]))


@nox.session(python=PYTHON[0])
def capacity(session: nox.Session) -> None:
    """Maximum supported users (Mattermost method): add users step by step until a budget
    trips. ``nox -s capacity -- --start 20 --step 20 --step-time 45 --max-users 800``."""
    session.install("-e", ".[embedded,load]")
    session.run("python", "-m", "loadtests", "capacity", *session.posargs)


@nox.session(python=PYTHON[0])
def bench(session: nox.Session) -> None:
    """Micro-benchmarks and macro ratios against this machine's ceilings (bench/README.md).
    ``nox -s bench -- --quick`` for a shorter run; ``-- fanout`` runs one benchmark."""
    session.install("-e", ".[embedded,test,bench]")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHON[0])
def chaos(session: nox.Session) -> None:
    """The chaos scenarios of tests/chaos at the size reliability.md names (the suite runs
    their short form): two processes per real-time service, fault proxies on their links.
    Figures go to docs/results/chaos.jsonl (``-- -k t01`` runs one scenario)."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "tests/chaos",
        *session.posargs,
        env={"WEALIST_CHAOS_SCALE": "full", "WEALIST_CHAOS_REPORT": "docs/results/chaos.jsonl"},
    )


@nox.session(python=PYTHON[0])
def fuzz(session: nox.Session) -> None:
    """Schemathesis against every service's OpenAPI document (T35) with 100 examples per
    operation and mode (the suite runs 3); ``-- 1000`` for a nightly run."""
    session.install("-e", ".[test]")
    examples = session.posargs[0] if session.posargs else "100"
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",
        "tests/security/test_schemathesis.py",
        *session.posargs[1:],
        env={"WEALIST_FUZZ_EXAMPLES": examples},
    )
