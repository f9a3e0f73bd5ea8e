"""systemd's notify protocol, without libsystemd: datagrams to ``$NOTIFY_SOCKET``.

``READY=1`` when serving, ``STOPPING=1`` when draining, ``STATUS=<state>`` on
every transition, and ``WATCHDOG=1`` every half ``$WATCHDOG_USEC`` while the
watchdog is on. With no ``$NOTIFY_SOCKET`` every call is a no-op.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import trio

from .lifecycle import Move, State
from .logs import get_logger

__all__ = ["Notifier"]

log = get_logger("resync_fsm.notify")

# What to tell systemd on entering a state, beyond STATUS=<state>. READY=1 is
# sent by the runner once the listener is up, not on entering serving.
_ON_ENTER = {State.DRAINING: "STOPPING=1"}


class Notifier:
    """Sends systemd's notify messages for one process (``environ``: default ``os.environ``)."""
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        path = environ.get("NOTIFY_SOCKET", "")
        # "@name" is an abstract socket: a leading NUL byte on Linux.
        self.address = "\0" + path[1:] if path.startswith("@") else path
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_interval = int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 and mine else None

    @property
    def enabled(self) -> bool:
        """Whether ``$NOTIFY_SOCKET`` is set: otherwise every send is a no-op."""
        return bool(self.address)

    def send(self, message: str) -> None:
        """Send one datagram (``READY=1``, ``STATUS=…``); a failure is logged, never raised."""
        if not self.enabled:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self.address)
        except OSError as exc:  # systemd gone or socket wrong: log, never fail the service
            log.warning("notify_failed", error=str(exc))

    def on_move(self, move: Move) -> None:
        """A lifecycle listener: ``STATUS=<state>`` on each move, ``STOPPING=1`` on draining."""
        extra = _ON_ENTER.get(move.dest)
        self.send(f"{extra}\nSTATUS={move.dest}" if extra else f"STATUS={move.dest}")

    async def serve_watchdog(self) -> None:
        """Ping the watchdog until cancelled (a no-op unless the watchdog is on)."""
        if not self.enabled or self.watchdog_interval is None:
            return
        while True:
            self.send("WATCHDOG=1")
            await trio.sleep(self.watchdog_interval)
