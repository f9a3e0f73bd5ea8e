"""The app is imported while ``validating`` (issue 22): a typo is exit 70 before any probe runs, a stop
during a slow import ends it at once, and an import that needs the main thread still works."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", [(), ("--workers", "2"), ("--reload",)], ids=["in-process", "workers", "reload"])
async def test_an_app_that_does_not_import_is_70_before_probing(mode: tuple[str, ...]) -> None:
    # before: the probe of an unreachable REDIS_URL waited out the 30 s deadline, exit 69, the typo unseen
    started = time.monotonic()
    async with running("--app", "nosuchmod:app", "--bind", "127.0.0.1:0", *mode, cwd=ROOT,
                       REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0") as cli:
        assert await cli.wait() == 70
    took = time.monotonic() - started
    assert took < 2.0, took
    assert cli.transitions() == ["validating", "failed"]
    assert "nosuchmod" in cli.stderr.decode()
    assert not [e for e in cli.events if e.get("event", "").startswith("probe")]


@pytest.mark.parametrize("mode", [("--workers", "2"), ("--reload",)], ids=["workers", "reload"])
async def test_a_syntax_error_is_70_without_importing_in_the_parent(tmp_path: Path, mode: tuple[str, ...]) -> None:
    (tmp_path / "broken.py").write_text("app = 1\nif True\n    pass\n")
    async with running("--app", "broken:app", "--app-dir", str(tmp_path), "--bind", "127.0.0.1:0", *mode,
                       cwd=str(tmp_path)) as cli:
        assert await cli.wait() == 70
    assert cli.transitions() == ["validating", "failed"]
    line = cli.stderr.decode()
    assert "'broken'" in line and "does not compile" in line and "line 2" in line, line


async def test_with_workers_the_parent_runs_no_module_of_the_app(tmp_path: Path) -> None:
    # the package's __init__ records who ran it: the workers do, the supervisor never
    package = tmp_path / "svc"
    package.mkdir()
    (package / "__init__.py").write_text("import os\nopen(os.environ['MARKS'], 'a').write(f'{os.getpid()}\\n')\n")
    (package / "main.py").write_text("from tests.e2e.apps import hello_app as app\n")
    marks = tmp_path / "marks"
    async with running("--app", "svc.main:app", "--app-dir", str(tmp_path), "--bind", "127.0.0.1:0",
                       "--workers", "2", cwd=ROOT, MARKS=str(marks)) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/")).text == "hello"
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    pids = {int(line) for line in marks.read_text().split()}
    assert len(pids) == 2 and cli.process.pid not in pids


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_during_a_slow_import_exits_within_a_second(signum: int) -> None:
    # before: the import (10 s of sleep) ran to its end first
    async with running("--app", "tests.e2e.slow_import_app:app", "--bind", "127.0.0.1:0", cwd=ROOT) as cli:
        await cli.wait_event("slow_import_started")
        sent = time.monotonic()
        cli.signal(signum)
        code = await cli.wait()
        took = time.monotonic() - sent
    assert took < 1.0, took
    assert code == (0 if signum == signal.SIGTERM else 130)
    assert cli.transitions() == ["validating", "draining", "stopped"]


async def test_an_import_that_needs_the_main_thread_still_works(loop: str) -> None:
    async with running("--app", "tests.e2e.main_thread_app:app", "--bind", "127.0.0.1:0", cwd=ROOT,
                       RESYNC_FSM_SERVER_LOOP=loop) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            body = (await client.get(url + "/")).text
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    # on trio there is no asyncio loop to share: get_event_loop() made one at import, as it would anywhere
    assert body == f"main=True same_loop={loop != 'trio'}"
