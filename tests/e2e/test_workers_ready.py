"""Issue 24, item 3: with workers, nothing says ready (the ``listening`` log, READY=1) before every worker's
``/readyz`` answers 200. Several services start at once (a loaded machine widens the race); each gets many
connections opened one by one from the moment its listener is bound (the first ``worker_serving``), and the
moment ``listening`` is logged each asks ``/readyz``, then ``/status`` (which names the worker that answered)."""

from __future__ import annotations

import json

import pytest
import trio

from ..servers import free_port
from .cli import LIMIT, Cli, running

STARTS = 3  # services started at once, per engine
CONNECTIONS = 40  # per service, opened before and after `listening`
ASK = (b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
       b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


def responses(data: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each response in ``data`` (each with a Content-Length)."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:"))
        out.append((int(lines[0][9:12]), rest[:length]))
        data = rest[length:]
    return out


async def readyz_and_worker(stream: trio.SocketStream, said_ready: trio.Event) -> tuple[int, int]:
    """Once ``said_ready``: ``/readyz``'s status on ``stream`` and the pid of the worker that answered it."""
    async with stream:
        await said_ready.wait()
        await stream.send_all(ASK)
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
    (ready, _), (_, status) = responses(data)
    return ready, int(json.loads(status)["worker"]["pid"])


async def one_start(engine: str, answers: list[tuple[int, int]], workers: list[set[int]]) -> None:
    port = free_port()
    async with running("--app", "tests.e2e.apps:hello_app", "--workers", "3", "--bind", f"127.0.0.1:{port}",
                       "--expose-status", "true", "--engine", engine) as cli:
        await cli.wait_event("worker_serving")  # the listener is bound: connections wait in its queue
        said_ready, mine = trio.Event(), []

        async def ask(stream: trio.SocketStream) -> None:
            mine.append(await readyz_and_worker(stream, said_ready))

        async def connect() -> None:  # one at a time, on until well after `listening`: every worker gets some
            for _ in range(CONNECTIONS):
                nursery.start_soon(ask, await trio.open_tcp_stream("127.0.0.1", port))
                await trio.sleep(0.003)

        with trio.fail_after(LIMIT):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(connect)
                await cli.wait_event("listening")
                said_ready.set()
        answers.extend(mine)
        workers.append({pid for _, pid in mine})
        await stop(cli)


async def stop(cli: Cli) -> None:
    import signal

    cli.signal(signal.SIGTERM)
    assert await cli.wait() == 0


@pytest.mark.parametrize("engine", ["hypercorn", "uvicorn"])
async def test_every_worker_answers_ready_once_anything_says_ready(engine: str) -> None:
    answers: list[tuple[int, int]] = []
    workers: list[set[int]] = []
    async with trio.open_nursery() as nursery:
        for _ in range(STARTS):
            nursery.start_soon(one_start, engine, answers, workers)
    not_ready = [(code, pid) for code, pid in answers if code != 200]
    assert not not_ready, f"{len(not_ready)} of {len(answers)} /readyz after `listening` were not 200: {not_ready[:5]}"
    assert max(len(pids) for pids in workers) >= 2  # the requests did reach several workers
