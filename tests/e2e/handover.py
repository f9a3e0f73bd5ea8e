"""Restarts on a handed-over listening socket under load (shared by tests/e2e/test_handover.py and
bench/handover.py).

A launcher (this process) holds a listening socket and passes it to each server as fd 3, as systemd
does for a ``.socket`` unit (``LISTEN_FDS=1``, ``LISTEN_PID`` the server's own pid). ``clients``
clients each open a new connection every ``gap`` seconds, not waiting for the last answer (``GET /``, ``Connection:
close``, read to EOF). :func:`restarts` restarts the server ``count`` times: SIGTERM, wait for the
exit, start the next on the same socket. The socket outlives every server, so a connection no
process accepted waits in the kernel's queue for the next: a request is *lost* only when a server
accepted it and dropped it (an empty reply, a reset, or a response that is not a full 200).

Every wait is bounded (``LIMIT``); every client loop stops with the run.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence

import attrs
import trio

LIMIT = 20.0  # real-time bound on any single wait
APP = "tests.e2e.apps:hello_app"
# What systemd does before exec: the socket at fd 3, LISTEN_PID the pid that execs (exec keeps it).
ACTIVATE = (
    "import os, sys\n"
    "fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd)\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def resync_fsm(engine: str = "auto", loop: str = "auto") -> list[str]:
    """resync_fsm on fd 3 (socket activation), ``engine`` on ``loop`` (``auto``: the default's choice)."""
    return ["-m", "resync_fsm", "--app", APP, "--engine", engine, "--loop", loop, "--log-level", "warning"]


BARE = {
    "bare Hypercorn": ["-m", "hypercorn", "--bind", "fd://3", "--workers", "0", APP],
    "bare Uvicorn": ["-m", "uvicorn", "--fd", "3", "--log-level", "warning", APP],
}


@attrs.define
class Tally:
    """Outcomes of every request: ``ok`` (a full 200) and the lost ones by kind; ``served[n]``: the full
    200s of requests sent after the ``n``-th server started (only it can have answered them)."""

    ok: int = 0
    lost: Counter[str] = attrs.field(factory=Counter)
    served: Counter[int] = attrs.field(factory=Counter)
    server: int = 0  # how many servers have been started
    changed: trio.Event = attrs.field(factory=trio.Event)

    def record(self, outcome: str | None, server: int) -> None:
        if outcome is None:
            self.ok += 1
            self.served[server] += 1
        else:
            self.lost[outcome] += 1
        self.changed.set()
        self.changed = trio.Event()

    async def until_served(self, count: int) -> None:
        """Until the current server has answered ``count`` requests (bounded)."""
        with trio.fail_after(LIMIT):
            while self.served[self.server] < count:
                await self.changed.wait()


async def one_request(port: int) -> str | None:
    """None for a full 200; else what went wrong (``empty``, ``reset``, ``partial``, ``status ...``,
    ``no answer`` within LIMIT)."""
    try:
        with trio.fail_after(LIMIT):
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(REQUEST)
                data = b""
                while chunk := await stream.receive_some(65536):
                    data += chunk
    except (trio.BrokenResourceError, ConnectionError):
        return "reset"
    except trio.TooSlowError:
        return "no answer"
    except OSError as exc:
        return f"error {exc.errno}"
    if not data:
        return "empty"
    if not data.startswith(b"HTTP/1.1 200"):
        return f"status {data[:12].decode(errors='replace')}"
    return None if data.endswith(b"hello") else "partial"


async def client(port: int, gap: float, tally: Tally, stop: trio.Event, outstanding: int = 8) -> None:
    """A new connection every ``gap`` seconds, not waiting for the last answer (at most ``outstanding``
    unanswered: an overloaded server slows the client down instead of queueing without end), until ``stop``."""
    limiter = trio.CapacityLimiter(outstanding)

    async def request() -> None:
        async with limiter:
            server = tally.server
            tally.record(await one_request(port), server)

    async with trio.open_nursery() as requests:
        while not stop.is_set():
            async with limiter:
                pass  # a slot is free
            requests.start_soon(request)
            await trio.sleep(gap)


def launch(listener: socket.socket, argv: Sequence[str]) -> subprocess.Popen[bytes]:
    """``python argv`` with ``listener`` as fd 3 (LISTEN_FDS=1, LISTEN_PID its own pid)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESYNC_FSM_", "LISTEN_"))}
    env.update(LISTEN_FDS="1", LISTEN_FDNAMES="http")
    return subprocess.Popen([sys.executable, "-c", ACTIVATE, str(listener.fileno()), *argv], env=env,
                            pass_fds=(listener.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


async def exited(process: subprocess.Popen[bytes]) -> int:
    """Its exit code, once it has exited (bounded); its stderr's last lines on a failure."""
    with trio.fail_after(LIMIT):
        while process.poll() is None:  # noqa: ASYNC110  (another process: nothing to wait on)
            await trio.sleep(0.005)
    assert process.stderr is not None
    with process.stderr:
        stderr = process.stderr.read().decode(errors="replace")
    if process.returncode not in (0, -signal.SIGTERM):
        raise AssertionError(f"exit {process.returncode}: {stderr[-2000:]}")
    return process.returncode


async def restarts(argv: Sequence[str], count: int, *, clients: int = 3, gap: float = 0.002,
                   served_each: int = 20) -> tuple[Tally, list[int]]:
    """Restart ``python argv`` on one handed-over socket ``count`` times under the load; each
    server first serves ``served_each`` requests. Returns the tally and every server's exit code."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    port, tally, stop, codes = listener.getsockname()[1], Tally(), trio.Event(), []
    with listener:
        process = launch(listener, argv)
        try:
            async with trio.open_nursery() as nursery:
                for _ in range(clients):
                    nursery.start_soon(client, port, gap, tally, stop)
                for _ in range(count):
                    await tally.until_served(served_each)  # this server serves
                    process.send_signal(signal.SIGTERM)
                    codes.append(await exited(process))
                    process = launch(listener, argv)
                    tally.server += 1
                await tally.until_served(served_each)
                stop.set()  # the clients finish on the last server
            process.send_signal(signal.SIGTERM)
            codes.append(await exited(process))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
    return tally, codes
