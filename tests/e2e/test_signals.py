"""The signal table and the process's edges with the real CLI, on every loop (issue 12).

A repeated SIGTERM stays graceful, a second SIGINT forces, SIGQUIT forces at once,
SIGHUP/SIGUSR1/SIGUSR2 are logged and ignored; a SIGINT before the runner watches is
an interruption (130, one line, no traceback), as is Ctrl-C during ``check``; a broken
stdout pipe never stops the service; every case of ``--log-level`` works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio

from ..servers import silent_endpoints
from .cli import env, running, until_in_flight

ROOT = str(Path(__file__).resolve().parents[2])


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (its /proc status SigCgt mask)."""
    with open(f"/proc/{pid}/status") as status:
        mask = next(int(line.split()[1], 16) for line in status if line.startswith("SigCgt:"))
    return bool(mask & (1 << (signum - 1)))


async def until(condition: object, limit: float = 10.0) -> None:
    """Ask another process (its /proc entry) until ``condition()`` holds: bounded, no event to wait on."""
    with trio.fail_after(limit):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - another process
            await trio.sleep(0.002)


async def test_a_repeated_sigterm_stays_graceful(loop: str) -> None:
    async with running("--app", "tests.e2e.apps:slow_app", "--bind", "127.0.0.1:0", "--drain-delay", "0.5",
                       "--expose-status", "true", cwd=ROOT, RESYNC_FSM_SERVER_LOOP=loop) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=10) as client, trio.open_nursery() as nursery:
            answers: list[int] = []

            async def slow() -> None:
                answers.append((await client.get(url + "/")).status_code)

            nursery.start_soon(slow)
            await until_in_flight(client, url, 1)
            cli.signal(signal.SIGTERM)
            await cli.wait_event("draining")
            cli.signal(signal.SIGTERM)  # docker stop, then the init system, say
            await cli.wait_event("event_ignored", event_name="drain")
        assert await cli.wait() == 0
    assert answers == [200]
    assert cli.stderr == b""


async def test_sigquit_forces_the_stop_at_once(loop: str) -> None:
    async with running("--app", "tests.e2e.apps:slow_app", "--bind", "127.0.0.1:0", "--drain-delay", "30",
                       cwd=ROOT, RESYNC_FSM_SERVER_LOOP=loop) as cli:
        await cli.url()
        started = time.monotonic()
        cli.signal(signal.SIGQUIT)
        assert await cli.wait() == 128 + signal.SIGQUIT
        assert time.monotonic() - started < 5
    assert cli.stderr.decode().splitlines() == [
        f"Stopped by SIGQUIT while draining: the drain was cut short (exit {128 + signal.SIGQUIT})"]


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2])
async def test_hup_and_usr_signals_are_logged_and_ignored(signum: int, loop: str) -> None:
    async with running("--bind", "127.0.0.1:0", cwd=ROOT, RESYNC_FSM_SERVER_LOOP=loop) as cli:
        url = await cli.url()
        cli.signal(signum)
        event = await cli.wait_event("signal_ignored")
        async with httpx.AsyncClient() as client:
            ready = await client.get(url + "/readyz")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert event["signal"] == signal.Signals(signum).name and event["state"] == "serving"
    assert ready.status_code == 200


async def sigint_once(argv: list[str], cwd: str, environ: dict[str, str],
                      *ready: Callable[[int], bool]) -> tuple[int, str]:
    """Start ``python -m resync_fsm ARGV``, wait until each ``ready(pid)`` holds in turn, send one
    SIGINT; return the exit code and stderr."""
    process = await trio.lowlevel.open_process([sys.executable, "-m", "resync_fsm", *argv], cwd=cwd,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environ)
    try:
        for condition in ready:
            await until(partial(condition, process.pid))
        process.send_signal(signal.SIGINT)
        with trio.fail_after(20):
            code = await process.wait()
        assert process.stderr is not None
        return code, (await process.stderr.receive_some(65536) or b"").decode()
    finally:
        if process.returncode is None:
            process.kill()


async def test_a_sigint_before_the_runner_watches_is_one_line_and_130(loop: str) -> None:
    # the earliest moment resync_fsm's code runs: its signal buffer catches SIGTERM (Python does not)
    code, err = await sigint_once(["--bind", "127.0.0.1:0"], ROOT, env(RESYNC_FSM_SERVER_LOOP=loop),
                                  lambda pid: catches(pid, signal.SIGTERM))
    assert code == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert len(err.splitlines()) == 1 and err.startswith("Interrupted: SIGINT "), err


async def test_ctrl_c_during_check_is_one_line_and_130(tmp_path: Path) -> None:
    with silent_endpoints(1) as (port,):
        config = tmp_path / "c.toml"
        config.write_text(f'[[probes]]\nname = "slow"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 20\n'
                          "[startup]\ntimeout = 20\n")
        # the signal buffer is in place, then handed back: check runs (importing, or probing for 20 s);
        # a Ctrl-C at any moment from there is one line and 130
        code, err = await sigint_once(["check", "--config", str(config)], str(tmp_path), env(),
                                      lambda pid: catches(pid, signal.SIGTERM),
                                      lambda pid: not catches(pid, signal.SIGTERM))
    assert code == 130
    assert "Traceback" not in err
    assert err.splitlines() == ["check: interrupted (Ctrl-C)"], err


async def test_a_broken_stdout_pipe_never_stops_the_service(loop: str) -> None:
    read, write = os.pipe()
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "resync_fsm", "--bind", "127.0.0.1:0"], cwd=ROOT, stdout=write,
        stderr=subprocess.PIPE, env=env(RESYNC_FSM_SERVER_LOOP=loop, RESYNC_FSM_ACCESS_LOG_ENABLED="true"))
    os.close(write)
    try:
        buffered = b""
        with trio.fail_after(20):
            while b'"listening"' not in buffered:
                buffered += await trio.to_thread.run_sync(os.read, read, 65536)
        line = next(x for x in buffered.splitlines() if b'"listening"' in x)
        url = line.split(b'"binds": ["', 1)[1].split(b'"', 1)[0].decode()
        os.close(read)  # the log collector goes away
        read = -1
        async with httpx.AsyncClient() as client:  # each request logs a line (access log on)
            answers = [(await client.get(url + "/")).status_code for _ in range(20)]
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            code = await process.wait()
        assert process.stderr is not None
        err = (await process.stderr.receive_some(65536) or b"").decode()
    finally:
        if read != -1:
            os.close(read)
        if process.returncode is None:
            process.kill()
    assert answers == [200] * 20
    assert code == 0 and err == ""


@pytest.mark.parametrize("level", ["DEBUG", "Debug", "iNfO"])
async def test_every_case_of_log_level_works(level: str) -> None:
    async with running("--bind", "127.0.0.1:0", "--log-level", level, cwd=ROOT) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert cli.stderr == b""
