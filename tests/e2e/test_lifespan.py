"""The app's lifespan outcomes other than a clean start and stop, on both engines and every loop (issue 12).

Nothing says ready before the startup completed; a stop during startup cancels it at once; a
bind error costs no startup; a lifespan that dies while serving drains, then fails (70); a
failed or overrunning shutdown is the shutdown's failure (70, naming the phase); always one stderr line.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import trio

from .cli import running, until_in_flight

ROOT = str(Path(__file__).resolve().parents[2])
APP = "tests.e2e.apps:lifespan_app"


async def test_a_stop_during_the_apps_startup_cancels_it_at_once(server_env: dict[str, str], tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    async with running("--app", APP, "--bind", "127.0.0.1:0", cwd=ROOT, RESYNC_TEST_LIFESPAN="slow-startup",
                       RESYNC_TEST_MARKS=str(marks), **server_env) as cli:
        await cli.wait_event("app_startup_begun")
        started = time.monotonic()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
        took = time.monotonic() - started
    assert took < 0.5 + 0.5, took  # 0.5 s, plus the interpreter's exit
    assert marks.read_text().splitlines() == ["startup"]  # never started, so no shutdown
    assert not [e for e in cli.events if e.get("event") == "listening"]
    assert cli.transitions() == ["validating", "probing", "serving", "draining", "stopped"]
    assert cli.stderr == b""


async def test_a_bind_error_costs_no_app_startup(server_env: dict[str, str], tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        async with running("--app", APP, "--bind", address, cwd=ROOT, RESYNC_TEST_MARKS=str(marks),
                           **server_env) as cli:
            assert await cli.wait() == 70
    assert not marks.exists()  # the app's startup never ran
    assert cli.stderr.decode().startswith(f"StartupError: cannot bind {address}: address already in use")


async def test_a_lifespan_that_dies_while_serving_drains_then_fails(server_env: dict[str, str],
                                                                     tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    async with running("--app", APP, "--bind", "127.0.0.1:0", "--drain-delay", "0.3",
                       "--expose-status", "true", cwd=ROOT, RESYNC_TEST_LIFESPAN="crash-on-request",
                       RESYNC_TEST_MARKS=str(marks), **server_env) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=10) as client, trio.open_nursery() as nursery:
            slow: list[httpx.Response] = []

            async def in_flight() -> None:
                slow.append(await client.get(url + "/slow"))

            nursery.start_soon(in_flight)
            await until_in_flight(client, url, 1)
            await client.get(url + "/crash")
            await cli.wait_event("draining")
            ready = await client.get(url + "/readyz")
        assert await cli.wait() == 70
    assert slow[0].status_code == 200 and ready.status_code == 503
    assert cli.transitions()[-2:] == ["draining", "failed"]
    lines = cli.stderr.decode().splitlines()
    assert lines == ["LifespanError: the app's lifespan failed while serving: RuntimeError: the model server "
                     "went away: (a second line of detail)"], lines


async def test_a_failed_lifespan_shutdown_is_the_shutdowns_failure(server_env: dict[str, str]) -> None:
    async with running("--app", APP, "--bind", "127.0.0.1:0", cwd=ROOT, RESYNC_TEST_LIFESPAN="shutdown-fails",
                       **server_env) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 70
    event = await cli.wait_event("lifespan_failed")
    assert event["error_details"]["phase"] == "shutdown"
    lines = cli.stderr.decode().splitlines()
    assert lines == ["LifespanError: the app's lifespan shutdown failed: ConnectionError: the pool would not close"]


async def test_an_overrunning_lifespan_shutdown_is_named_and_bounded(server_env: dict[str, str]) -> None:
    async with running("--app", APP, "--bind", "127.0.0.1:0", cwd=ROOT, RESYNC_TEST_LIFESPAN="shutdown-hangs",
                       RESYNC_FSM_SERVER_SHUTDOWN_TIMEOUT="0.5", **server_env) as cli:
        await cli.url()
        started = time.monotonic()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 70
        assert time.monotonic() - started < 0.5 + 2.0
    assert cli.stderr.decode().splitlines() == [
        "LifespanError: the app's lifespan shutdown did not complete within 0.5 s (server.shutdown_timeout)"]
