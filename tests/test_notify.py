"""systemd notify: messages per transition, abstract sockets, the watchdog on MockClock."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import structlog
import trio

from resync_fsm.lifecycle import Move
from resync_fsm.notify import Notifier


def receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.setblocking(False)
    return sock


def drain(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def move(dest: str) -> Move:
    return Move("e", "x", dest, 0.0, 0.0)


def test_no_socket_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.on_move(move("serving"))  # nothing to send to, nothing raised


def test_messages_to_a_path(tmp_path: Path) -> None:
    path = str(tmp_path / "n.sock")
    with receiver(path) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": path})
        for dest in ("validating", "serving", "draining", "stopped"):
            notifier.on_move(move(dest))
        assert drain(sock) == ["STATUS=validating", "STATUS=serving", "STOPPING=1\nSTATUS=draining",
                               "STATUS=stopped"]


def test_abstract_socket() -> None:
    name = f"resync-fsm-test-{os.getpid()}"
    with receiver("\0" + name) as sock:
        Notifier({"NOTIFY_SOCKET": "@" + name}).send("READY=1")
        assert drain(sock) == ["READY=1"]


def test_a_vanished_socket_never_fails_the_service(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with structlog.testing.capture_logs() as logs:
        assert notifier.send("READY=1") is None  # returned normally: nothing raised
        notifier.on_move(move("draining"))
    assert [(e["event"], e["log_level"]) for e in logs] == [("notify_failed", "warning")] * 2
    assert all("No such file or directory" in e["error"] for e in logs)


@pytest.mark.parametrize(("environ", "interval"), [
    ({"WATCHDOG_USEC": "4000000"}, 2.0),
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
])
def test_watchdog_interval(environ: dict[str, str], interval: float | None) -> None:
    assert Notifier({"NOTIFY_SOCKET": "/x", **environ}).watchdog_interval == interval


async def test_watchdog_pings_at_half_the_timeout(tmp_path: Path, autojump_clock: trio.abc.Clock) -> None:
    path = str(tmp_path / "w.sock")
    with receiver(path) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        with trio.move_on_after(3.5):
            await notifier.serve_watchdog()
        assert drain(sock) == ["WATCHDOG=1"] * 4  # at 0, 1, 2 and 3 s
