"""Websockets at drain: a close frame (1001, going away) when the listener closes (DESIGN §5).

Hypercorn and Uvicorn let an open websocket run until the graceful timeout cuts
it, and its client sees 1006 (abnormal closure). Here each websocket runs beside a
watcher: when the server starts closing, the client gets ``websocket.close`` with
code 1001, the app's next ``receive()`` answers ``websocket.disconnect`` (1001),
and what the app sends after that is dropped.
"""

from __future__ import annotations

import anyio

from .asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GOING_AWAY", "serve_websocket"]

GOING_AWAY = 1001


async def serve_websocket(app: ASGIApp, scope: Scope, receive: Receive, send: Send, closing: anyio.Event) -> None:
    """Run ``app`` on one websocket until it ends; close it with 1001 once ``closing`` is set."""
    closed = False

    async def close() -> None:
        nonlocal closed
        await closing.wait()
        if not closed:
            closed = True
            await send({"type": "websocket.close", "code": GOING_AWAY, "reason": "server draining"})

    async def guarded_receive() -> Message:
        if closed:
            return {"type": "websocket.disconnect", "code": GOING_AWAY}
        message = await receive()
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal closed
        if closed:
            return  # the client has been told the server is going away
        if message["type"] == "websocket.close":
            closed = True
        await send(message)

    async with anyio.create_task_group() as group:
        group.start_soon(close)
        await app(scope, guarded_receive, guarded_send)
        group.cancel_scope.cancel()
