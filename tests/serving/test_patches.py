"""A worker that stops accepting keeps every connection it had accepted (issue 17: recycling loses
no request), on the app's real asyncio loop with the runner as its trio guest, as in a worker."""

from __future__ import annotations

import asyncio
from typing import Any

import trio

from resync_fsm import loops
from resync_fsm.serving.loop_bridge import AsyncioBridge
from resync_fsm.serving.patches import AcceptedConnections

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(RESPONSE)
    await writer.drain()
    writer.close()


def test_stopping_between_an_accept_and_its_transport_loses_no_connection() -> None:
    """The worst moment: asyncio has accepted the connection and scheduled the making of its
    transport when the worker stops accepting. ``Server.close()`` there drops it (a reset)."""

    async def main() -> bytes:
        listeners = AcceptedConnections()
        listeners.install()
        host = asyncio.get_running_loop()

        async def start() -> Any:
            return await asyncio.start_server(_handle, "127.0.0.1", 0)

        server = await AsyncioBridge(host).run(start)
        port = server.sockets[0].getsockname()[1]
        create_task = host.create_task

        def stopping_after_the_accept(coro: Any, **kwargs: Any) -> Any:
            task = create_task(coro, **kwargs)
            if getattr(coro, "__qualname__", "").endswith("_accept_connection2"):
                host.create_task = create_task  # type: ignore[method-assign]
                listeners.stop_accepting()
            return task

        host.create_task = stopping_after_the_accept  # type: ignore[method-assign]
        data = b""
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await listeners.close()
            with trio.move_on_after(5):
                while chunk := await stream.receive_some(65536):
                    data += chunk
        with trio.move_on_after(5):
            await listeners.all_closed()
        server.close()
        return data

    assert loops.run(main, "asyncio") == RESPONSE


def test_asyncio_still_has_the_shape_accepted_connections_wraps() -> None:
    """Upstream: the loop's ``create_server(protocol_factory, ...)`` (wrapped per loop), the selector loop's
    ``remove_reader`` (how accepting stops), and CPython 3.11's ``Server._attach`` (the race: a transport
    made after ``close()`` asserts) — the behaviour :meth:`AcceptedConnections.stop_accepting` avoids."""
    import inspect
    import sys
    from asyncio import base_events, selector_events

    assert list(inspect.signature(base_events.BaseEventLoop.create_server).parameters)[:2] == [
        "self", "protocol_factory"]
    assert hasattr(selector_events.BaseSelectorEventLoop, "remove_reader")
    if sys.version_info[:2] == (3, 11):
        server: Any = base_events.Server
        assert "assert self._sockets is not None" in inspect.getsource(server._attach)
    assert "connection_lost" in inspect.getsource(asyncio.BaseProtocol)
