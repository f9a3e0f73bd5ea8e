"""The package stays typed (mypy --strict, from pyproject.toml) and lint-clean (ruff, with the ASYNC rules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


def test_mypy_strict() -> None:
    done = run("mypy", "resync_fsm")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff() -> None:
    done = run("ruff", "check", "resync_fsm", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr
