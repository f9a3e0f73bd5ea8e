"""A rolling restart of two replicas behind HAProxy: resync_fsm against bare Hypercorn and Uvicorn.

    python -m bench.rolling [--trials 5] [--clients 16]

The trial of tests/e2e/test_rolling_restart.py (tests/e2e/haproxy.py), with each
server in turn serving both replicas: HAProxy on loopback checks every server
each 100 ms (fall 1, rise 1), retries 0, no redispatch, a new connection to a
replica per request; closed-loop clients through it, a quarter on a 0.5 s
``/slow``, the rest on ``/``; slot by slot SIGTERM the old replica, wait for its
exit, start the new one on the same port, wait until HAProxy routes to it.
resync_fsm is checked on ``/readyz``; the bare servers have no readiness
endpoint, so HAProxy checks their ``/``, which answers 200 until they stop.
Variants are interleaved trial by trial. Needs haproxy, and uvicorn for its rows.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import attrs
import trio

from bench.common import machine, precompile
from bench.from_tests import LIMIT, Load, Replica, fetch, free_port, haproxy, haproxy_binary, roll
from bench.from_tests import TAGGED_APP as APP
from bench.servers import PY, ROOT, has_module

BIND = "127.0.0.1:{port}"
HEADING = "## Rolling restart behind HAProxy"
HOW = """The trial of `tests/e2e/test_rolling_restart.py`, with each server in turn serving both replicas. HAProxy on \
loopback balances two replicas round robin, checks each every 100 ms (`fall 1 rise 1`), with `retries 0` and no \
`option redispatch` (a request sent to a replica that refuses or drops it reaches the client as an error, nothing \
retries it out of sight), and `option http-server-close` (every request opens its own connection to a replica). \
{clients} closed-loop clients through HAProxy, each request on a fresh connection: {slow} on `/slow` (0.5 s), {fast} \
on `/` (at once). Slot by slot: SIGTERM the old replica, wait for it to exit, start the new one on the same port, \
wait until HAProxy routes to it. resync_fsm is checked on `/readyz`; the bare servers have no readiness endpoint, \
so HAProxy checks their `/`, which answers 200 until the listener closes. A request is lost unless it is a 200 \
with the full body."""
READING = """How to read it. HTTP 503 is HAProxy's answer when the connect to the chosen replica is refused (its \
listener is closed, and `retries 0`); HTTP 502, when the replica accepted the connection but closed it without a \
response (the connection sat in the accept queue when the listener closed, or the process died with the request \
in flight); cut, when the response started and did not finish. With `drain_delay` 0.5 s, `/readyz` turns 503 at \
SIGTERM and HAProxy's next check (within 100 ms) takes the replica out while its listener still serves, so \
nothing is sent to a closed port; the requests in flight when the listener closes finish within \
`graceful_timeout`. With `drain_delay` 0 the listener closes at SIGTERM, before HAProxy notices, and resync_fsm \
loses about as many requests as the bare servers: the delay is what makes the difference, not the graceful stop \
alone. The bare servers close their listener at SIGTERM (Uvicorn, Hypercorn with a worker process) or die \
outright (Hypercorn `--workers 0`, exit -15, with requests in flight), and their `/` answers 200 until then, so \
HAProxy keeps routing to them until a check fails. Uvicorn's -15 is not a crash: it stops gracefully, then raises \
the SIGTERM it caught again so that its exit status shows the signal. Requests per server differ because the \
trials differ in length (Hypercorn `--workers 0` exits at once) and in speed."""


def variants() -> dict[str, tuple[list[str], str]]:
    """name -> (argv with {port}, the path HAProxy checks)."""
    out = {
        "resync_fsm, drain_delay 0.5 s": ([PY, "-m", "resync_fsm", "--app", APP, "--bind", BIND,
                                           "--drain-delay", "0.5", "--log-format", "json"], "/readyz"),
        "resync_fsm, drain_delay 0 (control)": ([PY, "-m", "resync_fsm", "--app", APP, "--bind", BIND,
                                                 "--drain-delay", "0", "--log-format", "json"], "/readyz"),
        "bare Hypercorn, trio, --workers 0": ([PY, "-m", "hypercorn", "--worker-class", "trio", "--workers", "0",
                                               "--bind", BIND, APP], "/"),
        "bare Hypercorn, trio, 1 worker process": ([PY, "-m", "hypercorn", "--worker-class", "trio",
                                                    "--bind", BIND, APP], "/"),
    }
    if has_module("uvicorn"):
        out["bare Uvicorn, --timeout-graceful-shutdown 10"] = (
            [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning",
             "--timeout-graceful-shutdown", "10", APP], "/")
    return out


@asynccontextmanager
async def replica(argv: list[str], port: int, ready_path: str) -> AsyncIterator[Replica]:
    """One server process on ``port``, answering 200 on ``ready_path`` (bounded wait); killed if left running."""
    process = await trio.lowlevel.open_process([a.replace("{port}", str(port)) for a in argv], cwd=ROOT,
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
    try:
        with trio.fail_after(LIMIT):
            while (await fetch(port, ready_path, timeout=1.0))[1] != 200:
                if process.returncode is not None:
                    raise RuntimeError(f"{argv} exited with {process.returncode}")
                await trio.sleep(0.01)
        yield Replica(lambda: process.send_signal(signal.SIGTERM), process.wait)
    finally:
        if process.returncode is None:
            process.kill()
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            await process.wait()


@attrs.define
class Trial:
    sent: int
    lost: Counter[str]  # "503", "502", "cut", ... -> count
    old_exits: list[int]


async def trial(argv: list[str], check: str, clients: int, workdir: Path) -> Trial:
    ports, front = [free_port(), free_port()], free_port()
    load = Load(front, clients=clients, slow_every=4, duration=30.0)
    async with AsyncExitStack() as stack:
        nursery = await stack.enter_async_context(trio.open_nursery())

        async def start(port: int) -> Replica:
            return await stack.enter_async_context(replica(argv, port, check))

        old = [await start(port) for port in ports]
        await stack.enter_async_context(haproxy(workdir, front, ports, check))
        nursery.start_soon(load.run)
        for port in ports:
            await load.served_by(port, set())
        await load.ok_since(float("-inf"), 32)  # real load before anything restarts
        steps, new = await roll(load, ports, old, start)
        await load.stop()
        for r in new:
            r.terminate()
            with trio.move_on_after(LIMIT):
                await r.wait()
    lost = Counter(r.outcome if r.outcome != "status" else str(r.status) for r in load.lost())
    return Trial(len(load.requests), lost, [step.old_exit for step in steps])


async def run(trials: int, clients: int) -> dict[str, list[Trial]]:
    results: dict[str, list[Trial]] = {name: [] for name in variants()}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(trials):
            for name, (argv, check) in variants().items():
                results[name].append(await trial(argv, check, clients, Path(tmp)))
    return results


def table(results: dict[str, list[Trial]]) -> str:
    rows = ["| server (HAProxy checks) | requests | lost, median per trial | lost, total | "
            "how (total) | old replicas' exit codes |", "|---|---|---|---|---|---|"]
    for name, done in results.items():
        check = "`/readyz`" if name.startswith("resync_fsm") else "`/`"
        lost = [sum(t.lost.values()) for t in done]
        how = Counter[str]()
        for t in done:
            how.update(t.lost)
        kinds = ", ".join(f"{count} × {'HTTP ' + kind if kind.isdigit() else kind}"
                          for kind, count in sorted(how.items())) or "none"
        exits = Counter(code for t in done for code in t.old_exits)
        codes = ", ".join(f"{code} ({count}×)" for code, count in sorted(exits.items()))
        rows.append(f"| {name} ({check}) | {sum(t.sent for t in done)} | {statistics.median(lost):g} | "
                    f"{sum(lost)} | {kinds} | {codes} |")
    return "\n".join(rows)


def versions() -> str:
    """HAProxy's version (and Uvicorn's and Hypercorn's), for the section's first line."""
    found = []
    haproxy_bin = haproxy_binary()
    if haproxy_bin is not None:
        first = subprocess.run([haproxy_bin, "-v"], capture_output=True, text=True, timeout=10).stdout.split()
        found.append(f"HAProxy {first[2]}" if len(first) > 2 else "HAProxy")
    for name in ("uvicorn", "hypercorn"):
        if has_module(name):
            from importlib.metadata import version
            found.append(f"{name.capitalize()} {version(name)}")
    return ", ".join(found)


def report(trials: int = 5, clients: int = 16) -> str:
    """The ``## Rolling restart behind HAProxy`` section, measured now (a line saying why not without haproxy)."""
    if haproxy_binary() is None:
        return f"{HEADING}\n\nhaproxy is not installed (`apt-get install haproxy`): not measured.\n"
    precompile()
    results = trio.run(run, trials, clients)
    slow = len(range(0, clients, 4))
    return (f"{HEADING}\n\n`python -m bench.rolling --trials {trials} --clients {clients}` on {machine()}, "
            f"{versions()}; the variants interleaved trial by trial.\n\n"
            + HOW.format(clients=clients, slow=slow, fast=clients - slow) + "\n\n" + table(results) + "\n\n"
            + READING + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if haproxy_binary() is None:
        sys.exit("haproxy is not installed (apt-get install haproxy)")
    print(report(args.trials, args.clients))


if __name__ == "__main__":
    main()
