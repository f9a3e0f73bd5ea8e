"""The supervisor ↔ worker channel over a real socketpair: JSON lines both ways, a line too long ends it, a send
to a peer that is gone never raises."""

from __future__ import annotations

import socket
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import PurePosixPath
from typing import Any, cast

import trio

from resync_fsm.serving.workers import channel as channel_module
from resync_fsm.serving.workers.channel import Channel


@asynccontextmanager
async def pair() -> AsyncIterator[tuple[Channel, Channel]]:
    mine, theirs = socket.socketpair()
    left, right = Channel(mine), Channel(theirs)
    try:
        yield left, right
    finally:
        await left.aclose()
        await right.aclose()


async def received(end: Channel, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with trio.fail_after(10):
        async with aclosing(cast(AsyncGenerator[dict[str, Any], None], end.messages())) as messages:
            async for message in messages:
                out.append(message)
                if len(out) == count:
                    break
    return out


async def test_messages_go_both_ways_as_json_lines() -> None:
    async with pair() as (parent, worker):
        await parent.send({"view": {"live": [True, "serving"], "status": {"state": "serving", "note": "é ✓"}}})
        await parent.send({"ping": 1})
        await worker.send({"ready": ["http://127.0.0.1:8000"]})
        await worker.send({"failed": PurePosixPath("/not/json")})  # default=str
        assert await received(worker, 2) == [
            {"view": {"live": [True, "serving"], "status": {"state": "serving", "note": "é ✓"}}}, {"ping": 1}]
        assert await received(parent, 2) == [{"ready": ["http://127.0.0.1:8000"]}, {"failed": "/not/json"}]


async def test_lines_split_across_reads_and_many_in_one_read_are_each_one_message() -> None:
    mine, theirs = socket.socketpair()
    end = Channel(mine)
    raw = trio.SocketStream(trio.socket.from_stdlib_socket(theirs))
    try:
        await raw.send_all(b'{"a":1}\n{"b":')
        await trio.sleep(0.01)
        await raw.send_all(b'2}\n{"c":3}\n')
        await raw.aclose()
        with trio.fail_after(10):
            assert [m async for m in end.messages()] == [{"a": 1}, {"b": 2}, {"c": 3}]
    finally:
        await end.aclose()


async def test_a_line_over_the_limit_ends_the_messages() -> None:
    mine, theirs = socket.socketpair()
    end = Channel(mine)
    raw = trio.SocketStream(trio.socket.from_stdlib_socket(theirs))
    out: list[dict[str, Any]] = []

    async def write() -> None:
        await raw.send_all(b'{"before":1}\n' + b"x" * (channel_module._MAX_LINE + 65536) + b'\n{"after":1}\n')

    try:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(write)
                async for message in end.messages():
                    out.append(message)
                nursery.cancel_scope.cancel()  # the writer may still be blocked: nobody reads any more
        assert out == [{"before": 1}]
    finally:
        await end.aclose()
        await raw.aclose()


async def test_a_send_after_the_peer_closed_never_raises() -> None:
    async with pair() as (parent, worker):
        await worker.aclose()
        for n in range(5):
            await parent.send({"ping": n})  # the worker may be dying: dropped silently
        assert parent.closed
        assert [m async for m in parent.messages()] == []  # and there is nothing more to read


async def test_after_aclose_sends_are_dropped_and_aclose_is_idempotent() -> None:
    async with pair() as (parent, worker):
        await parent.aclose()
        await parent.send({"drain": True})
        await parent.aclose()
        with trio.fail_after(10):
            assert [m async for m in worker.messages()] == []  # nothing was sent after the close


async def test_concurrent_sends_are_whole_lines() -> None:
    async with pair() as (parent, worker):
        big = "y" * 200_000  # larger than one socket write: the lock keeps lines whole
        async with trio.open_nursery() as nursery:
            for n in range(4):
                nursery.start_soon(parent.send, {"n": n, "pad": big})
            got = await received(worker, 4)
        assert sorted(m["n"] for m in got) == [0, 1, 2, 3] and all(m["pad"] == big for m in got)
