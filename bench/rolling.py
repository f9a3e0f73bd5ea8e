"""A rolling restart of two replicas behind HAProxy: resync_fsm against bare Hypercorn and Uvicorn.

    python bench/rolling.py [--trials 5] [--clients 16]

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import machine, precompile  # noqa: E402
from servers import has_module  # noqa: E402

from tests.e2e.haproxy import APP, LIMIT, Load, Replica, fetch, haproxy, haproxy_binary, roll  # noqa: E402
from tests.servers import free_port  # noqa: E402

PY = sys.executable
BIND = "127.0.0.1:{port}"


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
        await trio.sleep(0.3)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if haproxy_binary() is None:
        sys.exit("haproxy is not installed (apt-get install haproxy)")
    precompile()
    results = trio.run(run, args.trials, args.clients)
    print(f"rolling restart behind HAProxy: 2 replicas, {args.clients} clients, {args.trials} trials per server, "
          f"on {machine()}")
    print(table(results))


if __name__ == "__main__":
    main()
