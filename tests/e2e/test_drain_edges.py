"""The drain at the connection's edge, on every engine and loop (DESIGN §5, issues 12 and 15): keep-alive
connections close while draining, a client that never reads cannot hold the stop, websockets get 1001."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import trio
import wsproto
import wsproto.events as ws

from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])


async def _connect(url: str) -> trio.SocketStream:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return await trio.open_tcp_stream(host, int(port))


async def _exchange(stream: trio.SocketStream, path: str = "/") -> tuple[bytes, bytes]:
    """One keep-alive GET on ``stream``: (head in lower case, body)."""
    await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += await stream.receive_some(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.lower().split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.startswith(b"content-length")))
    while len(body) < length:
        body += await stream.receive_some(65536)
    return head.lower(), body


async def _closed_by_server(stream: trio.SocketStream) -> bool:
    """Whether the server closes ``stream`` (EOF or reset) without sending anything more."""
    try:
        return await stream.receive_some(1) == b""
    except trio.BrokenResourceError:
        return True


async def test_keep_alive_connections_close_while_draining(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", "--drain-delay", "1",
                       cwd=ROOT, **server_env) as cli:
        url = await cli.url()
        busy, idle = await _connect(url), await _connect(url)
        async with busy, idle:
            for stream in (busy, idle):
                head, _ = await _exchange(stream)
                assert b"connection: close" not in head
            cli.signal(signal.SIGTERM)
            await cli.wait_event("draining")
            head, body = await _exchange(busy)  # still served during drain_delay, and told to go
            assert body == b"hello" and b"connection: close" in head
            with trio.fail_after(1):
                assert await _closed_by_server(busy)
            signalled = time.monotonic()
            with trio.fail_after(3):  # the idle one closes when the listener does, not at the graceful timeout
                assert await _closed_by_server(idle)
        assert await cli.wait() == 0
        assert time.monotonic() - signalled < 2.5  # not the graceful timeout (25 s)


async def test_a_client_that_never_reads_cannot_hold_the_stop(server_env: dict[str, str]) -> None:
    bound = 0.2 + 1 + 2 + 2  # drain_delay + graceful_timeout + shutdown_timeout + 2 s
    async with running("--app", "tests.e2e.apps:big_app", "--bind", "127.0.0.1:0", "--drain-delay", "0.2",
                       "--graceful-timeout", "1", cwd=ROOT, RESYNC_FSM_SERVER_SHUTDOWN_TIMEOUT="2",
                       **server_env) as cli:
        stream = await _connect(await cli.url())
        async with stream:
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await stream.receive_some(65536)).startswith(b"HTTP/1.1 200")  # then never read again
            started = time.monotonic()
            cli.signal(signal.SIGTERM)
            with trio.move_on_after(bound + 1):
                await cli.process.wait()
            took = time.monotonic() - started
            assert cli.process.returncode == 0 and took < bound, took
    assert (await cli.wait_event("drain_finished"))["requests_cut"] == 1


async def test_open_websockets_get_1001_when_the_listener_closes(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:echo_websocket_app", "--bind", "127.0.0.1:0",
                       cwd=ROOT, **server_env) as cli:
        stream = await _connect(await cli.url())
        client = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)

        async def events() -> list[ws.Event]:
            while not (got := list(client.events())):
                data = await stream.receive_some(65536)
                client.receive_data(data or None)
            return got

        async with stream:
            await stream.send_all(client.send(ws.Request(host="x", target="/ws")))
            assert isinstance((await events())[0], ws.AcceptConnection)
            await stream.send_all(client.send(ws.TextMessage("ping")))
            assert [e.data for e in await events() if isinstance(e, ws.TextMessage)] == ["ping"]
            cli.signal(signal.SIGTERM)
            with trio.fail_after(5):
                closing = [e for e in await events() if isinstance(e, ws.CloseConnection)]
            assert closing and closing[0].code == 1001
            await stream.send_all(client.send(closing[0].response()))
        assert await cli.wait() == 0
