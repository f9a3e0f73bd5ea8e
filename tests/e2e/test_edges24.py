"""Issue 24 through the real CLI: empty optional values, Kubernetes service links, password rules,
TLS diagnostics, exception groups and timeout lines (one engine: the settings path is the same)."""

from __future__ import annotations

import signal
from pathlib import Path

from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])
LIFESPAN_APP = "tests.e2e.apps:lifespan_app"


async def test_item12_an_overrunning_startup_names_server_startup_timeout() -> None:
    async with running("--app", LIFESPAN_APP, "--bind", "127.0.0.1:0", "--app-startup-timeout", "0.3", cwd=ROOT,
                       RESYNC_TEST_LIFESPAN="slow-startup") as cli:
        assert await cli.wait() == 70
    assert cli.stderr.decode().splitlines() == [
        "LifespanError: the app's lifespan startup did not complete within 0.3 s (server.startup_timeout)"]


async def test_item10_an_empty_dotenv_password_is_unset_in_development(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_PASSWORD= # set by the vault later\nTWS_HOST=\n")
    async with running("--env-file", str(tmp_path / ".env"), "--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0, cli.stderr
    assert cli.stderr == b""
