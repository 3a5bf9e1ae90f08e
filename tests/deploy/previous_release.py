"""Build the previous release (deploy/previous-release) into a venv of its own, once per commit.

The commit is read from the repository, not from a tag, since a fresh clone may carry no tags.
The venv is kept beside the interpreter running the tests (``<venv>/previous-release/<commit>``)
and reused while that commit stays the previous release; a lock keeps two test runs from
building it at once.
"""

from __future__ import annotations

import fcntl
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.serve import ROOT

RECORD = ROOT / "deploy" / "previous-release"


def previous_commit() -> str:
    """Return the commit id deploy/previous-release names (its one line that is not a comment)."""
    lines = [
        line.strip()
        for line in RECORD.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1 and len(lines[0]) == 40, f"{RECORD} must hold one full commit id"
    return lines[0]


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def _source(commit: str, into: Path) -> None:
    if _git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        shallow = _git("rev-parse", "--is-shallow-repository").stdout.decode().strip()
        # Nothing can be fetched offline: say what is missing instead of failing obscurely.
        pytest.skip(
            f"this clone lacks the previous release {commit[:12]} "
            f"({'a shallow clone' if shallow == 'true' else 'not in its history'}); "
            "clone with full history (git fetch --unshallow) to run the rolling-upgrade test"
        )
    archive = _git("archive", "--format=tar", commit)
    assert archive.returncode == 0, archive.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def previous_release_python() -> Path:
    """Return the python of a venv holding the previous release, building it when missing."""
    commit = previous_commit()
    home = Path(sys.prefix) / "previous-release"
    home.mkdir(parents=True, exist_ok=True)
    target = home / commit[:12]
    python = target / "bin" / "python"
    with open(home / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".installed").exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        source = home / f"{commit[:12]}-source"
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir()
        _source(commit, source)
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        # A plain (not editable) install, its dependencies resolved by pip as an operator's
        # would be, through this machine's pip configuration and cache.
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert installed.returncode == 0, installed.stderr[-3000:]
        shutil.rmtree(source, ignore_errors=True)
        (target / ".installed").write_text(commit + "\n")
    return python
