"""Commands that serve nothing never import the server, the HTTP client or the app."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .cli import env, running


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


def _imports(stderr: bytes) -> list[str]:
    return [line.rsplit("|", 1)[1].strip() for line in stderr.decode().splitlines() if line.startswith("import time:")]


async def test_run_imports_prometheus_client_only_when_scraped(tmp_path: Path) -> None:
    # issues 11 and 15: start-up imports only what serving needs; requests are counted without the library
    command = [sys.executable, "-X", "importtime", "-m", "resync_fsm"]
    for scrape in (False, True):
        async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", cwd=str(Path.cwd()),
                           command=command) as cli:
            url = await cli.url()
            async with httpx.AsyncClient() as client:
                assert (await client.get(url + "/readyz")).status_code == 200
                assert (await client.get(url + "/")).status_code == 200
                if scrape:
                    scraped = await client.get(url + "/metrics")
                    assert 'resync_fsm_requests_total{method="GET",status_class="2xx"} 1.0' in scraped.text
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
        imports = _imports(cli.stderr)
        assert "trio" in imports  # the measurement works
        assert ("prometheus_client" in imports) == scrape, scrape
