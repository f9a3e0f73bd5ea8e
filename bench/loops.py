"""How the trio lifecycle and an asyncio app share a process, measured on three prototypes.

    python -m bench.loops [--trials 5] [--seconds 3] [--sigterm-trials 20]

bench/protos/ holds three minimal servers of the same raw ASGI hello app with
hypercorn.asyncio, each with a trio task that turns /readyz to 503 on SIGTERM and
then shuts the server down: (a) trio as a guest on the asyncio loop (what
resync_fsm does), (b) trio.run in a second thread, the signal forwarded from
asyncio through the trio token, (c) trio-asyncio (the asyncio loop inside trio).

Measured side by side, variants interleaved: spawn to the first 200 on /readyz,
requests/s and p99 with wrk (50 connections; server on CPU 0, wrk on CPU 1),
server CPU per request, RSS, and SIGTERM → first 503 on /readyz under saturating
load (bench/sigterm.py). :func:`serve_figures` is shared with bench/run.py.
"""

from __future__ import annotations

import argparse
import statistics

from bench import sigterm
from bench.common import precompile
from bench.load import load
from bench.servers import PY, Server, has_module

CONNECTIONS = 50
DRAIN_DELAY = "0.5"
FIELDS = ("ready_ms", "rps", "p99_ms", "cpu_us", "rss_mib")


def prototypes() -> dict[str, list[str]]:
    out = {
        "(a) guest mode": [PY, "-m", "bench.protos.guest", "{port}", DRAIN_DELAY],
        "(b) trio in a thread": [PY, "-m", "bench.protos.thread", "{port}", DRAIN_DELAY],
    }
    if has_module("trio_asyncio"):
        out["(c) trio-asyncio"] = [PY, "-m", "bench.protos.trio_asyncio_loop", "{port}", DRAIN_DELAY]
    return out


def one_serving(argv: list[str], ready_path: str, seconds: float) -> dict[str, float]:
    """Start (pinned), time to ready, 0.5 s warm-up, then `seconds` of wrk: the five figures."""
    pin = sigterm.PIN
    server = Server((["taskset", "-c", "0"] if pin else []) + argv, ready_path)
    try:
        ready = server.start()
        load(server.port, connections=CONNECTIONS, seconds=1.0, cpu=1 if pin else None)  # warm-up
        cpu = server.cpu_seconds()
        rps, p99, _ = load(server.port, connections=CONNECTIONS, seconds=seconds, cpu=1 if pin else None)
        cpu_us = (server.cpu_seconds() - cpu) / max(rps * seconds, 1) * 1e6
        return {"ready_ms": ready * 1000, "rps": rps, "p99_ms": p99, "cpu_us": cpu_us, "rss_mib": server.rss_mib()}
    finally:
        server.stop()


def serve_figures(variants: dict[str, tuple[list[str], str]], trials: int,
                  seconds: float) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, tuple[float, float]]]]:
    """Interleaved rounds; (medians, (min, max) spreads) of FIELDS per variant."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(trials):
        for name, (argv, path) in variants.items():
            samples[name].append(one_serving(argv, path, seconds))
    medians = {name: {f: statistics.median(s[f] for s in runs) for f in FIELDS} for name, runs in samples.items()}
    spreads = {name: {f: (min(s[f] for s in runs), max(s[f] for s in runs)) for f in FIELDS}
               for name, runs in samples.items()}
    return medians, spreads


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def serving_rows(medians: dict[str, dict[str, float]], base: str) -> list[list[str]]:
    b = medians[base]
    return [[name, f"{m['ready_ms']:.0f} ms ({m['ready_ms'] / b['ready_ms']:.2f})",
             f"{m['rps']:.0f} ({m['rps'] / b['rps']:.3f})", f"{m['p99_ms']:.1f} ms ({m['p99_ms'] / b['p99_ms']:.2f})",
             f"{m['cpu_us']:.0f} µs ({m['cpu_us'] / b['cpu_us']:.3f})", f"{m['rss_mib']:.1f} MiB"]
            for name, m in medians.items()]


SERVING_HEADER = ["variant", "time to ready", "requests/s", "p99", "server CPU per request", "RSS"]


def sigterm_rows(results: dict[str, dict[str, float | str]]) -> list[list[str]]:
    return [[name, f"{r['p50']:.1f} ms", f"{r['p99']:.1f} ms", f"{r['max']:.1f} ms", f"{r['rtt']:.1f} ms",
             f"{r['n']}" + (f" ({r['missing']} without a 503)" if r["missing"] else ""), str(r["kinds"])]
            for name, r in results.items()]


SIGTERM_HEADER = ["variant", "SIGTERM → 503 p50", "p99", "max", "poll round trip before SIGTERM", "trials",
                  "first non-200"]


def run(trials: int, seconds: float, sigterm_trials: int) -> tuple[str, dict[str, float]]:
    """The markdown section's tables (without the analysis) and headline figures."""
    protos = prototypes()
    medians, spreads = serve_figures({name: (argv, "/readyz") for name, argv in protos.items()}, trials, seconds)
    stops = sigterm.measure(protos, sigterm_trials)
    base = "(a) guest mode"
    spread = "; ".join(f"{name} {lo:.0f}–{hi:.0f}" for name, s in spreads.items() for lo, hi in [s["rps"]])
    text = (f"Each variant is a fresh process per trial, {trials} interleaved rounds; in brackets, the ratio to guest "
            f"mode. wrk: {CONNECTIONS} connections, 1 thread, 1 s warm-up, {seconds:g} s, `GET /`.\n\n"
            + table(SERVING_HEADER, serving_rows(medians, base))
            + f"\nrequests/s across trials: {spread}.\n\n"
            f"SIGTERM → first 503 on `/readyz` while wrk saturates `/` ({CONNECTIONS} connections), "
            f"{sigterm_trials} trials per variant, interleaved (`bench/sigterm.py`):\n\n"
            + table(SIGTERM_HEADER, sigterm_rows(stops)))
    figures = {f"{name}:{f}": m[f] for name, m in medians.items() for f in FIELDS}
    figures |= {f"{name}:stop_{k}": float(v) for name, r in stops.items() for k, v in r.items() if k in ("p50", "p99")}
    return text, figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sigterm-trials", type=int, default=20)
    args = parser.parse_args()
    precompile()
    print(run(args.trials, args.seconds, args.sigterm_trials)[0])
