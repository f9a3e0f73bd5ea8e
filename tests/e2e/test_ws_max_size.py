"""``--ws-max-size`` (Uvicorn's name, issue 22) on both engines: a message up to the limit is echoed, a
larger one closes the websocket with 1009 (RFC 6455 §7.4.1: message too big)."""

from __future__ import annotations

import signal
from pathlib import Path

import trio
import wsproto
import wsproto.events as ws

from .cli import LIMIT, running

ROOT = str(Path(__file__).resolve().parents[2])


async def _echo_then_oversize(url: str, fits: int, oversize: int) -> tuple[int, int | None]:
    """Send a ``fits``-byte text message, then an ``oversize``-byte one: (length echoed, close code)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    client = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    echoed, parts = 0, ""
    with trio.fail_after(LIMIT):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(client.send(ws.Request(host="x", target="/ws")))
            sent_big = False
            while True:
                data = await stream.receive_some(65536)
                client.receive_data(data or None)
                for event in client.events():
                    if isinstance(event, ws.AcceptConnection):
                        await stream.send_all(client.send(ws.TextMessage("a" * fits)))
                    elif isinstance(event, ws.TextMessage):
                        parts += event.data
                        if event.message_finished:
                            echoed, parts = len(parts), ""
                    elif isinstance(event, ws.CloseConnection):
                        return echoed, event.code
                if echoed and not sent_big:
                    sent_big = True
                    await stream.send_all(client.send(ws.TextMessage("b" * oversize)))
                if not data:
                    return echoed, None


async def test_ws_max_size_bounds_a_message_on_every_engine(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:echo_websocket_app", "--bind", "127.0.0.1:0",
                       "--ws-max-size", "4096", cwd=ROOT, **server_env) as cli:
        echoed, code = await _echo_then_oversize(await cli.url(), 4096, 4097)
        assert (echoed, code) == (4096, 1009)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_default_ws_max_size_is_16_mib(server_env: dict[str, str]) -> None:
    # 1 MiB passes where a 4 KiB limit would not: the default is the engines' own 16 MiB
    async with running("--app", "tests.e2e.apps:echo_websocket_app", "--bind", "127.0.0.1:0",
                       cwd=ROOT, **server_env) as cli:
        echoed, code = await _echo_then_oversize(await cli.url(), 1 << 20, 16 * (1 << 20) + 1)
        assert (echoed, code) == (1 << 20, 1009)
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
