"""The load a server sees behind a lagging balancer while it drains (shared by the e2e test and bench/).

Clients send on fresh connections (``Connection: close``) in closed loops; the
caller sends SIGTERM; the clients keep starting requests for ``lag`` seconds
after it, as a balancer does before it drops the endpoint, then stop.
Every request is classified: ``ok`` (200 with the full body), ``refused``
(the connect failed), ``cut`` (connected but no full response), ``other``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import attrs
import trio

BODY = 1000  # bytes the test apps answer with


@attrs.define
class DrainReport:
    outcomes: Counter[str] = attrs.field(factory=Counter)
    after_signal: Counter[str] = attrs.field(factory=Counter)  # requests started after SIGTERM
    spanning: Counter[str] = attrs.field(factory=Counter)  # in flight when SIGTERM came
    readiness: list[tuple[float, int]] = attrs.field(factory=list)  # (seconds after signal, status)
    signalled_at: float = 0.0
    exited_at: float | None = None

    @property
    def first_503(self) -> float | None:
        return next((t for t, status in self.readiness if status == 503 and t >= 0), None)


async def fetch(host: str, port: int, path: str, timeout: float = 10.0) -> tuple[str, int]:
    try:
        stream = await trio.open_tcp_stream(host, port)
    except OSError:
        return "refused", 0
    data = b""
    async with stream:
        try:
            with trio.fail_after(timeout):
                await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                while chunk := await stream.receive_some(65536):
                    data += chunk
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError):
            return "cut", 0
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return "cut", 0
    status = int(head[9:12])
    if status == 200 and path == "/" and len(body) != BODY:
        return "cut", status
    return ("ok" if status == 200 else "other"), status


async def drain_under_load(
    host: str,
    port: int,
    signal: Callable[[], None],
    wait_exit: Callable[[], trio.Event],
    *,
    clients: int = 24,
    warmup: float = 0.6,
    lag: float = 0.5,
    poll_readyz: bool = True,
) -> DrainReport:
    report = DrainReport()
    stop_at = trio.current_time() + 3600.0
    exited = wait_exit()

    async def client(offset: float) -> None:
        await trio.sleep(offset)  # staggered, so the clients' phases spread over a request's length
        while trio.current_time() < stop_at:
            started = trio.current_time()
            outcome, _ = await fetch(host, port, "/")
            report.outcomes[outcome] += 1
            if started >= report.signalled_at > 0:
                report.after_signal[outcome] += 1
            elif report.signalled_at > 0:
                report.spanning[outcome] += 1

    async def readyz() -> None:
        while not exited.is_set():
            at = trio.current_time() - report.signalled_at if report.signalled_at else -1.0
            _, status = await fetch(host, port, "/readyz", timeout=1.0)
            report.readiness.append((at, status))
            await trio.sleep(0.01)

    async with trio.open_nursery() as nursery:
        for i in range(clients):
            nursery.start_soon(client, warmup * i / clients / 2)
        if poll_readyz:
            nursery.start_soon(readyz)
        await trio.sleep(warmup)
        report.signalled_at = trio.current_time()
        signal()
        stop_at = report.signalled_at + lag
        await exited.wait()
        report.exited_at = trio.current_time() - report.signalled_at
        # the clients finish by themselves: they start nothing after stop_at, and every
        # request ends (answered, refused, cut or timed out) — nothing is dropped uncounted
    return report
