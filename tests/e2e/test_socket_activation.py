"""Issue 14: systemd socket activation. The test holds the listening socket as systemd does, passes it
as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to the child's own pid; a restart refuses no connection."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from contextlib import AbstractAsyncContextManager

import httpx
import trio

from .cli import LIMIT, Cli, env, running

# What systemd does before exec: the socket at fd 3, LISTEN_PID the pid that execs (exec keeps it).
ACTIVATE = (
    "import os, sys\n"
    "fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd)\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'resync_fsm', *sys.argv[2:]])\n"
)


def command(listener: socket.socket, *args: str) -> list[str]:
    return [sys.executable, "-c", ACTIVATE, str(listener.fileno()), *args]


def activated(listener: socket.socket, *args: str) -> AbstractAsyncContextManager[Cli]:
    """The CLI with ``listener`` as fd 3, as systemd starts a service of a .socket unit."""
    return running("--app", "tests.e2e.apps:hello_app", *args, command=command(listener),
                   pass_fds=(listener.fileno(),), LISTEN_FDS="1", LISTEN_FDNAMES="http")


async def test_serves_through_an_inherited_socket_and_a_restart_refuses_nothing() -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    port = listener.getsockname()[1]
    outcomes: list[str] = []
    stop = trio.Event()
    changed = [trio.Event()]

    async def until(count: int) -> None:
        with trio.fail_after(LIMIT):
            while len(outcomes) < count:
                await changed[0].wait()

    async def keep_connecting() -> None:
        """A fresh connection per request, all through the restart; every outcome recorded."""
        while not stop.is_set() and len(outcomes) < 2000:
            try:
                async with httpx.AsyncClient(timeout=LIMIT) as client:
                    response = await client.get(f"http://127.0.0.1:{port}/", headers={"Connection": "close"})
                outcomes.append(str(response.status_code))
            except httpx.ConnectError as exc:
                outcomes.append(f"refused: {exc!r}")
            changed[0].set()
            changed[0] = trio.Event()
            await trio.sleep(0.01)

    with listener:
        async with activated(listener) as first:
            event = await first.wait_event("listening")
            assert event["binds"] == [f"http://127.0.0.1:{port}"]
            async with trio.open_nursery() as nursery:
                nursery.start_soon(keep_connecting)
                await until(1)
                first.signal(signal.SIGTERM)
                assert await first.wait() == 0
                served_by_first = len(outcomes)
                async with activated(listener) as second:  # the restart: same socket, new process
                    await second.wait_event("listening")
                    await until(served_by_first + 5)
                    stop.set()
                    second.signal(signal.SIGTERM)
        assert second.process.returncode == 0
    assert outcomes and all(outcome == "200" for outcome in outcomes), [o for o in outcomes if o != "200"][:3]


def test_config_shows_the_activated_bind() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:
        result = subprocess.run(command(listener, "config"), env=env(LISTEN_FDS="1", LISTEN_FDNAMES="web"),
                                pass_fds=(listener.fileno(),), capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 0, result.stderr
    assert 'bind = ["fd://3"]  # env LISTEN_FDS (names: web)' in result.stdout
