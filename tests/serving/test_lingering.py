"""The lingerer (resync_fsm/serving/lingering.py) on socket pairs: a socket taken is half-closed at once,
read and discarded, and closed at the peer's EOF or at the first bound passed (issue 23). Time is a
clock the test moves; waits for the lingerer's thread are bounded polls of its ``closed`` count."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from resync_fsm.serving.lingering import Lingerer, dup_socket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def until_closed(lingerer: Lingerer, count: int) -> None:
    deadline = time.monotonic() + 10
    while lingerer.closed < count:
        assert time.monotonic() < deadline, "the lingerer did not close the socket"
        time.sleep(0.005)


CLIENTS: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while CLIENTS:
        CLIENTS.pop().close()


def taken(lingerer: Lingerer) -> socket.socket:
    """A connected pair: one end's duplicate taken by ``lingerer`` (its original closed, as an engine's
    is), the other end returned: the client (closed after the test)."""
    server, client = socket.socketpair()
    CLIENTS.append(client)
    fd = dup_socket(server)
    assert fd is not None
    server.close()
    lingerer.take(fd)
    return client


def test_half_closed_at_once_then_closed_at_the_clients_eof() -> None:
    lingerer = Lingerer(clock=Clock())
    client = taken(lingerer)
    assert client.recv(10) == b""  # the FIN after the answer
    client.sendall(b"x" * 100_000)  # the rest of a body: read and discarded, no reset
    client.shutdown(socket.SHUT_WR)
    until_closed(lingerer, 1)
    assert lingerer.lingering == 0


def test_closed_once_size_bytes_are_read() -> None:
    lingerer = Lingerer(size=10_000, clock=Clock())
    client = taken(lingerer)
    client.sendall(b"x" * 10_000)
    until_closed(lingerer, 1)
    with pytest.raises(OSError):
        for _ in range(100):
            client.sendall(b"x" * 10_000)


@pytest.mark.parametrize(("moved", "closes"), [(29.0, False), (30.0, True)])
def test_closed_lingering_time_after_it_was_taken(moved: float, closes: bool) -> None:
    clock = Clock()
    lingerer = Lingerer(time=30.0, timeout=5.0, clock=clock)
    client = taken(lingerer)
    until_sent(lingerer)  # admitted: its deadlines count from now
    for _ in range(int(moved)):  # data every second: the idle timeout never passes
        clock.now += 1.0
        client.sendall(b"x")
        until_sent(lingerer)
    clock.now += moved - int(moved)
    lingerer.wake()
    if closes:
        until_closed(lingerer, 1)
    else:
        until_sent(lingerer)
        assert lingerer.closed == 0


def test_closed_after_lingering_timeout_without_data() -> None:
    clock = Clock()
    lingerer = Lingerer(time=30.0, timeout=5.0, clock=clock)
    taken(lingerer)
    until_sent(lingerer)
    clock.now += 5.0
    lingerer.wake()
    until_closed(lingerer, 1)


def test_a_bound_of_zero_closes_at_once() -> None:
    lingerer = Lingerer(time=0.0)
    client = taken(lingerer)
    assert lingerer.lingering == 0
    assert client.recv(10) == b""


def until_sent(lingerer: Lingerer) -> None:
    """Until the lingerer's thread has admitted every socket and read what was sent (bounded)."""
    deadline = time.monotonic() + 10
    while lingerer._incoming or any(_readable(e.sock) for e in list(lingerer._entries.values())):
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (BlockingIOError, OSError):
        return False
