"""``server.max_body_size`` (resync_fsm/web/body_limit.py), in memory: 413 with ``Connection: close`` by
Content-Length before the app, or as a body streams in past the limit; nothing else changes (issue 23)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from resync_fsm.web.body_limit import BodyLimit


def run(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[list[dict[str, Any]], list[Any]]:
    """What ``BodyLimit(app, 1000)`` sends for a request whose body arrives as ``chunks``, and what the
    app received."""
    sent: list[dict[str, Any]] = []
    received: list[Any] = []
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def recording(scope: Any, receive_: Any, send_: Any) -> None:
        await app(scope, _Recorder(receive_, received), send_)

    trio.run(BodyLimit(recording, 1000), {"type": "http", "headers": headers}, receive, send)
    return sent, received


class _Recorder:
    def __init__(self, receive: Any, into: list[Any]) -> None:
        self.receive, self.into = receive, into

    async def __call__(self) -> Any:
        message = await self.receive()
        self.into.append(message["type"])
        return message


async def reader(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body (raising on a disconnect, as Starlette does), then answers 200."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise OSError("client disconnected")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def statuses(sent: list[dict[str, Any]]) -> list[tuple[int, bool]]:
    return [(m["status"], (b"connection", b"close") in m["headers"])
            for m in sent if m["type"] == "http.response.start"]


def test_a_declared_length_over_the_limit_is_answered_before_the_app() -> None:
    sent, received = run(reader, [(b"content-length", b"1001")], [b"x" * 1001])
    assert statuses(sent) == [(413, True)] and received == []


@pytest.mark.parametrize("chunks", [[b"x" * 600, b"x" * 401], [b"x" * 1001], [b"x" * 10] * 101])
def test_a_streamed_body_over_the_limit_gets_413_and_the_app_a_disconnect(chunks: list[bytes]) -> None:
    sent, received = run(reader, [(b"transfer-encoding", b"chunked")], chunks)
    assert statuses(sent) == [(413, True)]
    assert received[-1] == "http.disconnect"  # what the app receives once the limit is passed


@pytest.mark.parametrize("size", [0, 1, 999, 1000])
def test_a_body_within_the_limit_reaches_the_app(size: int) -> None:
    sent, _ = run(reader, [(b"content-length", str(size).encode())], [b"x" * size])
    assert statuses(sent) == [(200, False)]


def test_an_answer_started_before_the_limit_is_not_replaced() -> None:
    async def early(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive())["type"] != "http.disconnect":
            pass
        await send({"type": "http.response.body", "body": b"late"})

    sent, _ = run(early, [], [b"x" * 600, b"x" * 600])
    assert statuses(sent) == [(200, False)] and len(sent) == 1  # the rest is dropped: the engine closes
