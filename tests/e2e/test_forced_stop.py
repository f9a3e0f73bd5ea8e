"""Issue 24, item 6: a forced stop (a second SIGINT while draining, or SIGQUIT) ends the process within a bound
of the forcing signal and prints no traceback below debug level, on every engine and loop: with a request in
flight (``slow_app``) and with a client that never reads its large response (``big_app``)."""

from __future__ import annotations

import signal
import time

import pytest
import trio

from .cli import LIMIT, Cli, running

FORCED_WITHIN = 0.3  # seconds from the forcing signal to the process's exit (DESIGN: a forced stop is at once)
SLACK = 0.2  # a loaded machine's scheduling, on top
TRACEBACK_MARKS = ("Traceback", "Exception in callback", "never retrieved", "CancelledError")


async def started_request(port: int, path: str) -> trio.SocketStream:
    """A request sent on a fresh connection whose response is never read."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return stream


async def force(cli: Cli, how: str) -> float:
    """``SIGINT-twice``: SIGINT (drain), then SIGINT again once draining (exit 130); ``SIGQUIT``: SIGQUIT
    while serving (exit 131). Seconds from the forcing signal to the exit."""
    if how == "SIGINT-twice":
        cli.signal(signal.SIGINT)
        await cli.wait_event("draining")
    forcing = signal.SIGQUIT if how == "SIGQUIT" else signal.SIGINT
    forced = time.monotonic()
    cli.signal(forcing)
    with trio.fail_after(LIMIT):
        code = await cli.process.wait()
    took = time.monotonic() - forced
    assert code == 128 + forcing
    await cli.wait()
    return took


def tracebacks(cli: Cli) -> list[str]:
    text = [*cli.stdout_lines, *cli.stderr.decode(errors="replace").splitlines()]
    return [line for line in text if any(mark in line for mark in TRACEBACK_MARKS)]


@pytest.mark.parametrize("how", ["SIGINT-twice", "SIGQUIT"])
@pytest.mark.parametrize("app", ["tests.e2e.apps:slow_app", "tests.e2e.apps:big_app"])
async def test_a_forced_stop_is_quick_and_quiet(server_env: dict[str, str], app: str, how: str) -> None:
    async with running("--app", app, "--bind", "127.0.0.1:0", "--expose-status", "true",
                       "--graceful-timeout", "10", **server_env) as cli:
        port = int((await cli.url()).rsplit(":", 1)[1])
        stream = await started_request(port, "/")
        async with stream:
            await until_in_flight(port)
            took = await force(cli, how)
    assert not tracebacks(cli), tracebacks(cli)[:5]
    assert took < FORCED_WITHIN + SLACK, f"exited {took:.2f} s after the forcing SIGINT"


async def until_in_flight(port: int) -> None:
    """Until the service counts a request in flight (its /status, from another connection; bounded)."""
    import json

    with trio.fail_after(LIMIT):
        while True:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := await stream.receive_some(65536):
                    data += chunk
            if json.loads(data.partition(b"\r\n\r\n")[2])["in_flight"] >= 1:
                return
            await trio.sleep(0.01)
