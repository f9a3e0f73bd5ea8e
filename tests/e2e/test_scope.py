"""What each request's and websocket's scope carries to the app, through the real CLI on every engine and loop:
the app's lifespan state (ASGI's lifespan state extension: a shallow copy per scope) and the runner's
extensions (``resync_fsm.status``: the app sees ``draining``), whatever one request does to its own copy;
also with the proxy-header and access-log middleware outside the health wrapper and a management listener
(the health wrapper answers the server's own lifespan there)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import wsproto
import wsproto.events as ws

from .cli import LIMIT, running

ROOT = str(Path(__file__).resolve().parents[2])


async def _websocket(url: str) -> Any:
    """Open a websocket to ``url``; the JSON of the one text message the app sends before closing."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    client = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    texts: list[str] = []
    with trio.fail_after(LIMIT):
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(client.send(ws.Request(host="x", target="/ws")))
            while True:
                data = await stream.receive_some(65536)
                client.receive_data(data or None)
                for event in client.events():
                    if isinstance(event, ws.TextMessage):
                        texts.append(str(event.data))
                    elif isinstance(event, ws.CloseConnection):
                        await stream.send_all(client.send(event.response()))
                        return json.loads("".join(texts))
                if not data:
                    raise AssertionError(f"closed without a close frame, after {texts}")


def _seen(pool: int, status: str = "serving") -> dict[str, Any]:
    """What ``state_app`` answers when nothing leaked from an earlier scope."""
    return {"keys": ["pool"], "pool": pool, "state_mark": False, "extension_mark": False, "status": status,
            "lifespans": 1}


@pytest.mark.parametrize("middleware", [(), ("--access-log", "--forwarded-allow-ips", "127.0.0.1",
                                             "--management-bind", "127.0.0.1:0")], ids=["plain", "middleware"])
async def test_each_scope_gets_its_own_copy_of_the_lifespan_state_and_extensions(
        server_env: dict[str, str], middleware: tuple[str, ...]) -> None:
    async with running("--app", "tests.e2e.apps:state_app", "--bind", "127.0.0.1:0", "--drain-delay", "20",
                       *middleware, cwd=ROOT, **server_env) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=LIMIT) as client:
            first, second = [(await client.get(url + "/")).json() for _ in range(2)]
            websockets = [await _websocket(url) for _ in range(2)]
            cli.signal(signal.SIGTERM)
            await cli.wait_event("draining")
            draining = (await client.get(url + "/")).json()  # drain_delay: still served
        cli.signal(signal.SIGINT)  # a second signal ends the drain at once
        assert await cli.wait() == 128 + signal.SIGINT
    assert [first, second, *websockets, draining] == [_seen(1), _seen(2), _seen(3), _seen(4), _seen(5, "draining")]
