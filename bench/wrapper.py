"""What the health wrapper adds to one request, in process: the app called directly vs through it.

    python -m bench.wrapper [--n 200000]

Isolates the wrapper's own cost from the server's, which the machine's noise
hides in a whole-server load test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.from_tests import FakeView  # the tests' stand-in for the runner's view
from resync_fsm.web.health import HealthWrapper


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request"}


async def send(message: Any) -> None:
    pass


def per_call(target: Any, n: int) -> float:
    scope = {"type": "http", "path": "/", "method": "GET", "query_string": b"", "headers": []}

    def drive() -> None:
        coroutine = target(dict(scope), receive, send)
        try:
            coroutine.send(None)
        except StopIteration:
            return
        raise RuntimeError("the app blocked")

    started = time.perf_counter()
    for _ in range(n):
        drive()
    return (time.perf_counter() - started) / n


def run(n: int = 200_000, trials: int = 7) -> tuple[float, float]:
    """(median µs per request for the bare app, median µs added by the wrapper)."""
    wrapped = HealthWrapper(app, FakeView())
    bare, through = [], []
    for _ in range(trials):
        bare.append(per_call(app, n))
        through.append(per_call(wrapped, n))
    return statistics.median(bare) * 1e6, (statistics.median(through) - statistics.median(bare)) * 1e6


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    bare, added = run(args.n)
    print(f"bare app {bare:.2f} µs per request; the wrapper adds {added:.2f} µs")
