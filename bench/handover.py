"""Restarts on a handed-over socket: requests lost by resync_fsm (each engine) beside bare Hypercorn and Uvicorn.

    python -m bench.handover [--restarts 50] [--clients 3] [--gap-ms 2]

The trial of tests/e2e/test_handover.py (tests/e2e/handover.py), longer: a launcher
holds a listening socket and passes it as fd 3 (``LISTEN_FDS=1``, ``LISTEN_PID``),
``clients`` clients each open a new connection every ``gap`` ms (``GET /``,
``Connection: close``), and the server is restarted ``restarts`` times (SIGTERM, wait
for the exit, start the next on the same socket; each serves 20 requests first). A
request is lost when it gets an empty reply, a reset, or anything but a full 200.
Bare Hypercorn runs ``--bind fd://3 --workers 0`` (asyncio), bare Uvicorn ``--fd 3``.
"""

from __future__ import annotations

import argparse
import time

import trio

from bench.common import machine, precompile
from bench.from_tests import BARE_ON_FD3, restarts, resync_fsm_on_fd3
from bench.servers import has_module


def variants() -> dict[str, list[str]]:
    """name -> argv after ``python``."""
    pairs = [("hypercorn", "asyncio"), ("hypercorn", "trio")]
    if has_module("uvicorn"):
        pairs += [("uvicorn", "asyncio"), ("uvicorn", "uvloop")]
    out = {f"resync_fsm, {engine} on {loop}": resync_fsm_on_fd3(engine, loop) for engine, loop in pairs}
    if has_module("uvicorn"):
        out["bare Uvicorn (asyncio)"] = BARE_ON_FD3["bare Uvicorn"]
    out["bare Hypercorn (asyncio)"] = BARE_ON_FD3["bare Hypercorn"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=50)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--gap-ms", type=float, default=2.0)
    args = parser.parse_args()
    precompile()
    print(f"## Restarts on a handed-over socket\n\n{machine()}; {args.restarts} restarts, {args.clients} clients, "
          f"a new connection each every {args.gap_ms:g} ms\n")
    print("| server | requests | lost | how | exit codes | seconds |\n|---|---:|---:|---|---|---:|")
    for name, argv in variants().items():
        began = time.monotonic()
        tally, codes = trio.run(lambda argv=argv: restarts(argv, args.restarts, clients=args.clients,
                                                           gap=args.gap_ms / 1000))
        lost = sum(tally.lost.values())
        how = ", ".join(f"{kind} {count}" for kind, count in tally.lost.most_common()) or "-"
        exits = ", ".join(f"{code}×{codes.count(code)}" for code in sorted(set(codes)))
        print(f"| {name} | {tally.ok + lost} | {lost} | {how} | {exits} | {time.monotonic() - began:.0f} |", flush=True)


if __name__ == "__main__":
    main()
