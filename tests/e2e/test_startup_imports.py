"""Commands that serve nothing never import the server, the HTTP client or the app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .cli import env


def imported(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "resync_fsm", *args], cwd=tmp_path, env=env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--version"], ["diagram"], ["diagram", "--format", "dot"], ["check"]])
def test_no_server_no_app_no_http_client(tmp_path: Path, args: list[str]) -> None:
    modules = imported(tmp_path, *args)
    assert "resync_fsm.cli" in modules  # the measurement works
    for heavy in ("hypercorn", "httpx", "prometheus_client", "resync_fsm.serving", "resync_fsm.app",
                  "resync_fsm.runner"):
        assert heavy not in modules, f"{' '.join(args)} imports {heavy}"


def test_version_needs_not_even_the_settings_table(tmp_path: Path) -> None:
    modules = imported(tmp_path, "--version")
    assert "resync_fsm.settings.fields" not in modules and "trio" not in modules
