"""ASGI 3 types and the two response helpers the built-in endpoints use.

Shapes follow the ASGI specification: a scope and messages are mutable mappings,
``receive``/``send`` are awaitables, an app is ``app(scope, receive, send)``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["STATUS_EXTENSION", "STATUS_PAGE_EXTENSION", "ASGIApp", "Message", "Receive", "Scope", "Send", "send_body",
           "send_json"]

# The scope extensions the health wrapper passes to the app (resync_fsm.web.health): the runner's
# status (a callable returning the /status document), and whether this listener may show the status page.
STATUS_EXTENSION = "resync_fsm.status"
STATUS_PAGE_EXTENSION = "resync_fsm.status_page"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_body(send: Send, status: int, content_type: bytes, data: bytes,
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send a whole response: ``status``, ``content_type``, ``data`` (bytes), never cached."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    """Send ``body`` as ``application/json`` (non-JSON values rendered with ``str``)."""
    await send_body(send, status, b"application/json", json.dumps(body, default=str).encode())
