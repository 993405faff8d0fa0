"""The README's two commands check the system programs they need before anything else:
as root with apt-get they install them, saying so; otherwise they stop at once naming the
one command to run. ``WEALIST_SYSTEM_PATH`` points the check at a directory of our own,
so "missing" and "installed" are real states of a real directory, and root is a user
namespace (``unshare --map-root-user``) or, for the unprivileged case, ``nobody``."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_PACKAGES = "nginx-light coturn prometheus"
TEST_PROGRAMS = ("nginx", "turnserver", "promtool")


def fake_apt_get(directory: Path, *, works: bool) -> Path:
    """An ``apt-get`` that records its arguments and, when it ``works``, puts the
    programs of the packages asked for into ``directory``."""
    log = directory / "apt-get.log"
    installs = "".join(
        f'  printf "#!/bin/sh\\n" > "{directory}/{p}"; /bin/chmod +x "{directory}/{p}"\n'
        for p in TEST_PROGRAMS
    )
    script = directory / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'if [ "$1" = install ]; then\n' + (installs if works else "  exit 100\n") + "fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def bootstrap(*args: str, system: Path, as_root: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WEALIST_SYSTEM_PATH": str(system), "CI": "true"}
    if as_root:
        prefix = ["unshare", "--map-root-user"] if os.geteuid() != 0 else []
    else:
        prefix = (
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            if os.geteuid() == 0
            else []
        )
    return subprocess.run(
        [*prefix, str(ROOT / "wealist"), *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


@pytest.fixture
def system() -> Iterator[Path]:
    """An empty directory ``nobody`` can read (pytest's tmp_path is root's alone)."""
    found = Path(tempfile.mkdtemp(prefix="wealist-system-"))
    found.chmod(0o755)
    try:
        yield found
    finally:
        shutil.rmtree(found, ignore_errors=True)


def test_without_root_test_stops_naming_the_one_command(system: Path) -> None:
    done = bootstrap("test", "--version", system=system, as_root=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"wealist test needs {TEST_PACKAGES} from the system; run: "
        f"sudo apt-get install -y --no-install-recommends {TEST_PACKAGES}"
    ]
    assert "pytest" not in done.stdout  # nothing ran


def test_as_root_test_installs_what_is_missing_then_goes_on(system: Path) -> None:
    log = fake_apt_get(system, works=True)
    done = bootstrap("test", "--version", system=system, as_root=True)
    assert done.returncode == 0, done.stderr
    assert f"==> wealist test needs {TEST_PACKAGES}: installing them with apt-get" in done.stderr
    assert log.read_text().splitlines() == [
        "update -qq",
        f"install -y --no-install-recommends {TEST_PACKAGES} -qq",
    ]
    assert "pytest" in done.stdout + done.stderr  # then the suite's command ran
    # installed now: the next run asks for nothing
    again = bootstrap("test", "--version", system=system, as_root=True)
    assert again.returncode == 0 and "apt-get" not in again.stderr
    assert len(log.read_text().splitlines()) == 2


def test_a_failed_install_stops_with_the_command_to_run(system: Path) -> None:
    log = fake_apt_get(system, works=False)
    done = bootstrap("test", system=system, as_root=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"wealist test: installing {TEST_PACKAGES} failed; run: "
        f"apt-get install -y --no-install-recommends {TEST_PACKAGES}"
    )
    assert "install" in log.read_text()


def test_up_needs_the_gateway_unless_told_not_to_start_one(system: Path) -> None:
    done = bootstrap("up", system=system, as_root=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "wealist up needs nginx-light from the system; run: "
        "sudo apt-get install -y --no-install-recommends nginx-light"
    )
    # only what a command needs: a program that is there is not asked for
    (system / "nginx").write_text("#!/bin/sh\n")
    (system / "nginx").chmod(0o755)
    shutil.copy(system / "nginx", system / "turnserver")
    partial = bootstrap("test", system=system, as_root=False)
    assert "needs prometheus from the system" in partial.stderr
    (system / "nginx").unlink()
    bare = bootstrap("up", "--no-gateway", "--help", system=system, as_root=True)
    assert bare.returncode == 0, bare.stderr  # no gateway, no nginx needed
    assert "usage: wealist up" in bare.stdout
