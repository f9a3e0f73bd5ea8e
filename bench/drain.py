"""Drain behind a lagging balancer: resync_fsm (drain_delay 1 s) against bare Hypercorn, same app, same load.

    python -m bench.drain [--clients 24] [--lag 0.5] [--trials 3]

24 clients on fresh connections, each request 0.5 s; SIGTERM; the clients keep
sending for 0.5 s after it (the balancer's lag). Counts what each server
lost, and the time from SIGTERM to exit.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
from collections import Counter

import trio

from bench.common import precompile
from bench.from_tests import drain_under_load
from bench.servers import ROOT

APP = "tests.e2e.apps:slow_app"
COMMANDS = {
    "resync_fsm (drain_delay 1 s)": [sys.executable, "-m", "resync_fsm", "--app", APP, "--bind", "127.0.0.1:0",
                                     "--drain-delay", "1", "--log-format", "json"],
    "bare Hypercorn, trio, --workers 0": [sys.executable, "-m", "hypercorn", "--worker-class", "trio",
                                          "--workers", "0", "--bind", "127.0.0.1:0", APP],
    "bare Hypercorn, trio, 1 worker process": [sys.executable, "-m", "hypercorn", "--worker-class", "trio",
                                               "--bind", "127.0.0.1:0", APP],
}
BOUND = re.compile(rb"http://127\.0\.0\.1:(\d+)")


async def one(argv: list[str], clients: int, lag: float) -> tuple[Counter[str], float]:
    process = await trio.lowlevel.open_process(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    seen = b""
    assert process.stdout is not None
    with trio.fail_after(20):
        while not (match := BOUND.search(seen)):
            seen += await process.stdout.receive_some(4096)
    exited = trio.Event()

    async def wait_exit() -> None:
        await process.wait()
        exited.set()

    async def discard() -> None:
        async for _ in process.stdout:  # type: ignore[union-attr]
            pass

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait_exit)
        nursery.start_soon(discard)
        report = await drain_under_load("127.0.0.1", int(match[1]), lambda: process.send_signal(signal.SIGTERM),
                                        lambda: exited, clients=clients, lag=lag, poll_readyz=False)
    return report.after_signal + report.spanning, report.exited_at or 0.0


async def run(clients: int = 24, lag: float = 0.5, trials: int = 3) -> list[tuple[str, Counter[str], float]]:
    """(variant, outcomes of requests in flight at or started after SIGTERM, median exit time)."""
    totals = {name: Counter[str]() for name in COMMANDS}
    exits: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(trials):
        for name, argv in COMMANDS.items():
            outcomes, exit_after = await one(argv, clients, lag)
            totals[name].update(outcomes)
            exits[name].append(exit_after)
    return [(name, totals[name], statistics.median(exits[name])) for name in COMMANDS]


async def main(clients: int, lag: float, trials: int) -> None:
    print(f"drain: {clients} clients, fresh connections, 0.5 s requests, SIGTERM, {lag:g} s balancer lag, "
          f"{trials} trials (requests in flight at or started after SIGTERM, summed over trials)")
    for name, c, exit_median in await run(clients, lag, trials):
        sent = sum(c.values())
        lost = sent - c["ok"]
        print(f"  {name:40s} sent {sent:4d}  ok {c['ok']:4d}  refused {c['refused']:4d}  cut {c['cut']:4d}  "
              f"lost {100 * lost / max(sent, 1):5.1f}%  exit after SIGTERM (median) {exit_median:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--lag", type=float, default=0.5)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    precompile()
    trio.run(main, args.clients, args.lag, args.trials)
