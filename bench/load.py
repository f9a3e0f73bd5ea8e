"""Closed-loop HTTP load on loopback: wrk when installed, else a small trio client (keep-alive, N connections)."""

from __future__ import annotations

import re
import shutil
import subprocess

import trio

__all__ = ["load"]


def load(
    port: int, *, connections: int = 32, seconds: float = 5.0, path: str = "/", cpu: int | None = None
) -> tuple[float, float, str]:
    """(requests per second, p99 latency in ms, tool); ``cpu``: pin wrk to that core."""
    if shutil.which("wrk"):
        return (*_wrk(port, connections, seconds, path, cpu), "wrk")
    return (*trio.run(_python_load, port, connections, seconds, path), "python client")


def _wrk(port: int, connections: int, seconds: float, path: str, cpu: int | None) -> tuple[float, float]:
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    out = subprocess.run([*pin, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True,
                         timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _python_load(port: int, connections: int, seconds: float, path: str) -> tuple[float, float]:
    latencies: list[float] = []
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    end = trio.current_time() + seconds

    async def one() -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            buffer = b""
            while trio.current_time() < end:
                started = trio.current_time()
                await stream.send_all(request)
                while True:
                    head, sep, rest = buffer.partition(b"\r\n\r\n")
                    if sep:
                        length = int(re.search(rb"content-length: (\d+)", head.lower())[1])  # type: ignore[index]
                        if len(rest) >= length:
                            buffer = rest[length:]
                            break
                    buffer += await stream.receive_some(65536)
                latencies.append((trio.current_time() - started) * 1000)

    async with trio.open_nursery() as nursery:
        for _ in range(connections):
            nursery.start_soon(one)
    latencies.sort()
    return len(latencies) / seconds, latencies[int(len(latencies) * 0.99)]
