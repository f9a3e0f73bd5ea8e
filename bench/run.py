"""Every benchmark in one run, side by side, written to docs/benchmarks.md.

    python -m bench.run [--trials 3] [--sigterm-trials 10] [--seconds 3] [--quick] [--skip rolling,engines,...]
                        [--output docs/benchmarks.md]

From the repository root, as every bench (``python -m bench.<name>``). Loopback only,
bounded in time (the default run about 10 minutes on a shared 2-core machine,
``--quick --trials 1`` about 4). Each figure is a median of interleaved
trials, or a ratio of two medians measured in the same run. The sections of
bench/default.py, bench/rolling.py, bench/metrics.py, bench/access_log.py, bench/engines.py and,
when it exists, bench/workers.py come from their ``report()`` functions;
``--skip`` leaves sections out by key (``--list`` prints the keys). Needs the
test extra installed (it serves tests/e2e/apps.py); uses wrk, haproxy, valgrind and
Uvicorn when present (`apt-get install wrk haproxy`, `pip install uvicorn`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import trio

from bench import (
    access_log,
    default,
    drain,
    engines,
    fanout,
    instructions,
    loops,
    metrics,
    pyspy,
    rolling,
    sigterm,
    wrapper,
)
from bench.common import interleaved, machine, precompile
from bench.loop_servers import LOOPS, UVICORN, loop_variants
from bench.servers import PY, ROOT, Server, variants

Rows = list[list[str]]


def table(header: list[str], rows: Rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _import_self_times(argv: list[str], ready_path: str) -> dict[str, float]:
    """Module -> self import time in ms: `python -X importtime ARGV` from spawn until it first answers 200
    on ``ready_path``, then killed (SIGKILL: nothing imported on the way out is counted)."""
    server = Server([PY, "-X", "importtime", *argv[1:]], ready_path, stderr=subprocess.PIPE)
    try:
        server.start()
    finally:
        assert server.process is not None
        server.process.kill()
        stderr = server.process.communicate(timeout=30)[1].decode()
    times = {}
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            times[parts[2].strip()] = int(parts[0]) / 1000
    return times


def import_profile(trials: int) -> tuple[str, dict[str, float]]:
    """Where the extra start-up time goes: modules resync_fsm's `run` imports until ready that bare Hypercorn
    on asyncio does not import until it answers."""
    variants = loop_variants()
    ours, theirs = variants["resync_fsm, asyncio"], variants["Hypercorn, asyncio"]
    runs = [(_import_self_times(*ours), _import_self_times(*theirs)) for _ in range(trials)]
    extra: dict[str, list[float]] = {}
    for mine, bare in runs:
        sums: dict[str, float] = {}
        for module, ms in mine.items():
            if module not in bare:
                top = module.split(".")[0]
                top = "resync_fsm.settings" if module.startswith("resync_fsm.settings") else top
                sums[top] = sums.get(top, 0.0) + ms
        for top, ms in sums.items():
            extra.setdefault(top, []).append(ms)
    medians = sorted(((statistics.median(v), k) for k, v in extra.items()), reverse=True)
    total = sum(m for m, _ in medians)
    rows = [[f"`{name}`", f"{ms:.1f} ms"] for ms, name in medians[:10]]
    rows.append([f"{len(medians) - 10} more packages" if len(medians) > 10 else "—",
                 f"{sum(m for m, _ in medians[10:]):.1f} ms"])
    text = (f"The import-time profile (`-X importtime`, self times, median of {trials}; `-X importtime` itself "
            f"slows imports) of what resync_fsm's `run` imports until `/readyz` answers 200, beyond what bare "
            f"Hypercorn on asyncio imports until it answers, adds up to {total:.0f} ms:\n\n"
            + table(["package (first part of the module name)", "self import time"], rows))
    return text, {name: ms for ms, name in medians} | {"total": total}


def per_loop(trials: int, seconds: float) -> tuple[str, dict[str, float]]:
    """Time to ready, requests/s, p99, CPU per request, RSS: each loop of resync_fsm beside bare Hypercorn."""
    variants = loop_variants()
    medians, spreads = loops.serve_figures(variants, trials, seconds)
    rows = []
    figures: dict[str, float] = {}
    for loop in LOOPS:
        r, h = medians[f"resync_fsm, {loop}"], medians[f"Hypercorn, {loop}"]
        for name, m in ((f"resync_fsm, {loop}", r), (f"Hypercorn, {loop}", h)):
            lo, hi = spreads[name]["rps"]
            rows.append([name, f"{m['ready_ms']:.0f} ms", f"{m['rps']:.0f} ({lo:.0f}–{hi:.0f})",
                         f"{m['p99_ms']:.1f} ms", f"{m['cpu_us']:.0f} µs", f"{m['rss_mib']:.1f} MiB"])
        ratio = {f: r[f] / h[f] for f in loops.FIELDS}
        rows.append([f"**ratio, {loop}**", f"{ratio['ready_ms']:.2f}", f"{ratio['rps']:.3f}", f"{ratio['p99_ms']:.2f}",
                     f"{ratio['cpu_us']:.3f}", f"{ratio['rss_mib']:.2f}"])
        figures |= {f"{loop}:{f}": v for f, v in ratio.items()} | {f"{loop}:abs_{f}": r[f] for f in loops.FIELDS}
        floor = medians.get(f"Hypercorn, {loop}, trio imported first")
        if floor is not None:
            lo, hi = spreads[f"Hypercorn, {loop}, trio imported first"]["rps"]
            rows.append([f"Hypercorn, {loop}, trio imported first (the floor)", f"{floor['ready_ms']:.0f} ms",
                         f"{floor['rps']:.0f} ({lo:.0f}–{hi:.0f})", f"{floor['p99_ms']:.1f} ms",
                         f"{floor['cpu_us']:.0f} µs", f"{floor['rss_mib']:.1f} MiB"])
            rows.append([f"**floor ratio, {loop}**", f"{floor['ready_ms'] / h['ready_ms']:.2f}", "", "", "",
                         f"{floor['rss_mib'] / h['rss_mib']:.2f}"])
            figures |= {f"{loop}:floor_ready_ms": floor["ready_ms"] / h["ready_ms"],
                        f"{loop}:floor_rss_mib": floor["rss_mib"] / h["rss_mib"]}
    if UVICORN in medians:
        u = medians[UVICORN]
        lo, hi = spreads[UVICORN]["rps"]
        rows.append([UVICORN, f"{u['ready_ms']:.0f} ms", f"{u['rps']:.0f} ({lo:.0f}–{hi:.0f})", f"{u['p99_ms']:.1f} ms",
                     f"{u['cpu_us']:.0f} µs", f"{u['rss_mib']:.1f} MiB"])
        figures |= {f"uvicorn:abs_{f}": u[f] for f in loops.FIELDS}
    pin = " (server pinned to CPU 0, wrk to CPU 1)" if loops.sigterm.PIN else ""
    text = (f"Each variant a fresh process per trial, {trials} interleaved rounds. Time to ready: spawn to the "
            "first 200 (resync_fsm: `/readyz`; the others: `/`). Then wrk" + pin + f", 1 thread, "
            f"{loops.CONNECTIONS} keep-alive connections, 1 s warm-up, {seconds:g} s, `GET /` of "
            "`tests.e2e.apps:hello_app` (through resync_fsm's health wrapper); server CPU per request from "
            "`/proc/PID/stat` (utime + stime) over the measured seconds; RSS from `/proc/PID/status` after the "
            "load. Hypercorn runs in process (`--worker-class LOOP --workers 0`), as resync_fsm serves. "
            "*Trio imported first* is bare Hypercorn started by `python -c` after `import trio`: the floor of "
            "any server whose lifecycle runs on trio, as resync_fsm's does on every loop (issue 11). "
            "Medians; requests/s with its range across trials.\n\n"
            + table(["server", "time to ready", "requests/s (range)", "p99", "server CPU per request", "RSS"], rows))
    return text, figures


def sigterm_per_loop(trials: int) -> tuple[str, dict[str, float]]:
    results = sigterm.measure({f"resync_fsm, {loop}": sigterm.resync_argv(loop) for loop in LOOPS}, trials)
    text = (f"The real CLI (`--drain-delay 0.5`), {trials} trials per loop, interleaved: wrk saturates `/` with "
            f"{loops.CONNECTIONS} connections while a poller asks `/readyz` on its own keep-alive connection; "
            "the time from `kill(SIGTERM)` to the first non-200 answer (`bench/sigterm.py`). The poll round trip "
            "under the same load is the measurement's resolution: a saturated server answers the poll only "
            "after the requests queued before it.\n\n" + table(loops.SIGTERM_HEADER, loops.sigterm_rows(results)))
    return text, {f"{name.split(', ')[1]}:stop_p99": float(r["p99"]) for name, r in results.items()} | {
        f"{name.split(', ')[1]}:stop_p50": float(r["p50"]) for name, r in results.items()}


def profiles(seconds: float) -> str:
    if not pyspy.available():
        return "py-spy is not installed (`pip install py-spy`): no profile.\n"
    names = ["resync_fsm, asyncio", "Hypercorn, asyncio", "resync_fsm, trio", UVICORN]
    variants = loop_variants()
    results = {name: pyspy.profile(*variants[name], seconds) for name in names if name in variants}
    packages: list[str] = []
    for result in results.values():
        for package, share in list(result["package"].items())[:7]:  # type: ignore[union-attr]
            if package not in packages and share >= 0.02:
                packages.append(package)
    rows = [[f"`{package}`"] + [f"{r['package'].get(package, 0.0):.0%}" for r in results.values()]  # type: ignore[union-attr]
            for package in packages]
    rows += [[f"stack passes through: {k}"] + [f"{r['inclusive'][k]:.0%}" for r in results.values()]  # type: ignore[index]
             for k in pyspy.INCLUSIVE]
    rows.append(["samples (left out: guest I/O thread idle in epoll_wait)"]
                + [f"{r['samples']} ({r['idle']})" for r in results.values()])
    ours = results["resync_fsm, asyncio"]
    leaves = [[f"{share:.1%}", f"`{leaf}`"] for leaf, share in list(ours["leaves"].items())[:12]]  # type: ignore[union-attr]
    return (f"py-spy (`bench/pyspy.py`), {seconds:g} s at 250 Hz of the server process while wrk saturates `/` "
            f"({loops.CONNECTIONS} connections). Self time by the package of the innermost Python frame (time in "
            "C code, the kernel's socket calls included, is charged to the Python frame that called it), then the "
            "share of samples whose stack passes through a component:\n\n"
            + table(["package"] + list(results), rows)
            + "\nThe hottest innermost frames of resync_fsm on asyncio:\n\n" + table(["share", "frame"], leaves))


ANALYSIS = """
**Reading the ratios.** When a variant's requests/s range across trials spans 2× or more (the table
shows the ranges; other work on this shared machine), the requests/s, p99 and time-to-ready ratios are
noise; the server CPU per request is the steadier figure of what resync_fsm adds to Hypercorn.

**Instructions per request** (the section at the end, `python -m bench.instructions`) are the steady measure
of what resync_fsm adds once serving: counted by callgrind, they do not move with the machine's load.
Hypercorn on asyncio and on uvloop: about 1.02 × the bare server's, so at equal instructions per
cycle 0.98 × its requests/s; the wall-clock requests/s and CPU ratios above swing by several percent
around that from run to run. Uvicorn: about 1.08 × (0.93 × its requests/s), the health wrapper's
per-request work being a larger share of Uvicorn's much smaller cost per request.

**Time to ready.** Bare Hypercorn on asyncio or uvloop never imports trio; resync_fsm always does, as
its lifecycle runs on trio on every loop (issue 11 asks for exactly that). The *trio imported first*
rows measure what that alone costs: bare Hypercorn started after `import trio`, nothing else of
resync_fsm. Its ratio to bare Hypercorn (the *floor ratio*, and "floor" in the goals table) is above
1.15 in every run on this machine, so ≤ 1.15 × bare Hypercorn on asyncio or uvloop cannot be met by any
server whose lifecycle is trio; the goal as written needs either a lifecycle that is not trio before
the listener answers, or a goal stated against that floor. What resync_fsm adds above the floor is the
import profile below (structlog, anyio, the settings classes that attrs generates, the runner's own
modules; prometheus_client is no longer among them: it is imported at the first scrape) plus
validating, binding and the app's lifespan. On trio, bare Hypercorn imports trio too, and the gap is
that same part.

**SIGTERM → 503 (where the time goes).** `python -m bench.sigtrace --trials 12` timestamps the path
inside the server (bench/traced.py patches only timestamps in): kill → Python signal handler (median
0.1–0.2 ms on every loop) → readiness false at once (the runner's `stop_requested` flag, set where
the signal is first seen) → the next /readyz handled, which under saturation waits behind the requests
queued before it: the poll round trip under the same load (the table's column) is the floor.
"""


def why_guest(f: dict[str, float]) -> str:
    """The prototypes' verdict, from this run's figures (the reasons, which do not change run to run, follow)."""
    names = sorted({key.split(":")[0] for key in f})
    best_rps = max(names, key=lambda n: f[f"{n}:rps"])
    best_cpu = min(names, key=lambda n: f[f"{n}:cpu_us"])
    best_stop = min(names, key=lambda n: f[f"{n}:stop_p99"])
    guest = "(a) guest mode"
    lines = [f"In this run: most requests/s {best_rps}, least CPU per request {best_cpu}, lowest SIGTERM → 503 "
             f"p99 {best_stop}."]
    for n in names:
        if n != guest:
            lines.append(f"{n} against guest mode: requests/s {f[f'{n}:rps'] / f[f'{guest}:rps']:.3f}×, CPU per "
                         f"request {f[f'{n}:cpu_us'] / f[f'{guest}:cpu_us']:.2f}×, time to ready "
                         f"{f[f'{n}:ready_ms'] / f[f'{guest}:ready_ms']:.2f}×, SIGTERM → 503 p99 "
                         f"{f[f'{n}:stop_p99']:.1f} ms against {f[f'{guest}:stop_p99']:.1f} ms.")
    return " ".join(lines) + "\n" + WHY


WHY = """
Why, beyond this run's figures: **(c) trio-asyncio** runs every asyncio callback through trio's
scheduler (its loop is a trio task that re-dispatches handles), so each request pays trio's scheduling
on top of asyncio's: its CPU per request is a multiple of the others' and its requests/s a fraction, in
every run so far; it loses. **(b) trio in a thread** serves as fast as guest mode (its trio thread sleeps
in epoll while the app is served; the CPU per request and requests/s are within noise of guest mode)
and its start-up is no slower, but trio off the main thread cannot receive signals: asyncio receives
SIGTERM and forwards it through the trio token, and the trio thread then has to win the GIL from a
saturated asyncio thread (up to the 5 ms switch interval per hand-off), which shows in its SIGTERM → 503
tail. Beyond the figures, the thread puts the lifecycle's state (readiness, the probe board, the
wrapper's in-flight count) under two threads, so every read from the app's side is a cross-thread read
and every call between them goes through a thread-safe hand-off. **(a) guest mode** keeps one thread:
trio receives the signals itself, readiness is a plain attribute read on the same thread, and the
guest's I/O thread blocks in epoll_wait without CPU, so serving costs the same as the thread variant.
Guest mode is chosen for that: not faster than the thread on throughput or start-up (within noise;
where the line above says otherwise, so be it), but as fast, with one thread and trio's own signal
handling; trio-asyncio is out on throughput.
"""


def stop_latency(trials: int) -> tuple[str, dict[str, float]]:
    servers = variants()

    def once(argv: list[str], path: str) -> Callable[[], float]:
        def run() -> float:
            server = Server(argv, path)
            server.start()
            return server.stop()
        return run

    samples = interleaved({name: once(*spec) for name, spec in servers.items()}, trials)
    medians = {name: statistics.median(v) for name, v in samples.items()}
    base = medians["Hypercorn --workers 0"]
    notes = {
        "resync_fsm": "graceful: readiness off, listener closed, lifespan shutdown",
        "Hypercorn --workers 0": "no signal handling: SIGTERM kills the process outright",
        "Hypercorn (1 worker process)": "graceful, through its parent process",
        "Uvicorn": "graceful",
    }
    rows = [[name, f"{m * 1000:.0f} ms", f"{m / base:.2f}", notes.get(name, "")] for name, m in medians.items()]
    text = ("SIGTERM to exit, nothing in flight, `drain_delay` 0 (the default).\n\n"
            + table(["server", "median", "ratio to Hypercorn --workers 0", "how it stops"], rows))
    ratio = medians["resync_fsm"] / medians.get("Hypercorn (1 worker process)", base)
    return text, {"stop": medians["resync_fsm"], "stop_ratio": ratio}


def commands(trials: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "`python -c pass` (the interpreter alone)": [PY, "-c", "pass"],
            "`python -m resync_fsm --version`": [PY, "-m", "resync_fsm", "--version"],
            "`python -m resync_fsm diagram`": [PY, "-m", "resync_fsm", "diagram"],
            "`python -m resync_fsm check` (no probes)": [PY, "-m", "resync_fsm", "check"],
        }

        def once(argv: list[str]) -> Callable[[], float]:
            def run() -> float:
                started = time.perf_counter()
                subprocess.run(argv, cwd=tmp, capture_output=True, check=True, timeout=30)
                return time.perf_counter() - started
            return run

        samples = interleaved({name: once(argv) for name, argv in cases.items()}, trials)
        rows = []
        for name, argv in cases.items():
            imported = subprocess.run([*argv[:1], "-X", "importtime", *argv[1:]], cwd=tmp, capture_output=True,
                                      text=True, check=True, timeout=30).stderr
            loads = [mod for mod in ("hypercorn", "httpx", "structlog", "tests.e2e.apps") if f" {mod}\n" in imported]
            rows.append([name, f"{statistics.median(samples[name]) * 1000:.0f} ms", ", ".join(loads) or "none"])
    return ("Commands that serve nothing must not pay for the server (measured with `-X importtime`).\n\n"
            + table(["command", "median wall time", "imports of hypercorn, httpx, structlog, the app"], rows))


def optional_report(module: str) -> Callable[..., str] | None:
    """``bench.<module>``'s ``report`` when that module exists (bench/workers.py comes from another branch)."""
    name = f"bench.{module}"
    try:
        return importlib.import_module(name).report  # type: ignore[no-any-return]
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise
        return None


def call_report(report: Callable[..., str], **offered: object) -> str:
    """``report(...)`` with those of ``offered`` (trials, seconds, quick) that it takes."""
    taken = inspect.signature(report).parameters
    return report(**{name: value for name, value in offered.items() if name in taken})


# key for --skip -> what the section measures (in the document's order)
SECTIONS = {
    "default": "the default path beside bare Uvicorn, Hypercorn and Granian (bench/default.py)",
    "loops": "serving on each loop: time to ready, throughput, latency, CPU, memory; import profile",
    "sigterm": "SIGTERM -> /readyz 503 on each loop",
    "profile": "where the time goes (py-spy)",
    "prototypes": "why guest mode: guest, thread, trio-asyncio",
    "stop": "stop latency",
    "commands": "commands that serve nothing",
    "fanout": "probe fan-out",
    "drain": "drain behind a lagging balancer",
    "rolling": "rolling restart behind HAProxy (bench/rolling.py)",
    "metrics": "metrics cost (bench/metrics.py)",
    "access-log": "access log cost (bench/access_log.py)",
    "engines": "Uvicorn engine (bench/engines.py)",
    "instructions": "instructions per request under callgrind (bench/instructions.py; needs valgrind)",
    "workers": "worker processes (bench/workers.py, when it exists)",
}


def goal_rows(figures: dict[str, float]) -> Rows:
    """The goals whose figures this run measured (a skipped section leaves its goals out)."""
    goals: Rows = []
    for loop in LOOPS:
        if f"{loop}:rps" in figures:
            goals += [
                [f"{loop}: time to ready ≤ 1.15 × Hypercorn on {loop}", f"{figures[f'{loop}:ready_ms']:.2f}"
                 + (f" (floor: {figures[f'{loop}:floor_ready_ms']:.2f})" if f"{loop}:floor_ready_ms" in figures
                    else ""), goal(figures[f"{loop}:ready_ms"] <= 1.15)],
                [f"{loop}: requests/s ≥ 0.97 × Hypercorn on {loop}", f"{figures[f'{loop}:rps']:.3f}",
                 goal(figures[f"{loop}:rps"] >= 0.97)],
                [f"{loop}: p99 ≤ 1.05 × Hypercorn on {loop}", f"{figures[f'{loop}:p99_ms']:.2f}",
                 goal(figures[f"{loop}:p99_ms"] <= 1.05)],
                [f"{loop}: RSS ≤ 1.2 × Hypercorn on {loop}", f"{figures[f'{loop}:rss_mib']:.2f}",
                 goal(figures[f"{loop}:rss_mib"] <= 1.2)],
            ]
        if f"{loop}:stop_p99" in figures:
            goals.append([f"{loop}: SIGTERM → /readyz 503, p99 ≤ 50 ms under saturating load",
                          f"{figures[f'{loop}:stop_p99']:.1f} ms (p50 {figures[f'{loop}:stop_p50']:.1f} ms)",
                          goal(figures[f"{loop}:stop_p99"] <= 50)])
    if "stop" in figures:
        goals.append(["stop latency ≤ 1.0 × Hypercorn's graceful stop, and < 0.2 s",
                      f"{figures['stop_ratio']:.2f} ({figures['stop'] * 1000:.0f} ms)",
                      goal(figures["stop_ratio"] <= 1.0 and figures["stop"] < 0.2)])
    if "fanout" in figures:
        goals.append(["`check` fan-out ≤ 1.2 × the asyncio check", f"{figures['fanout']:.2f}",
                      goal(figures["fanout"] <= 1.2)])
    if "drain_lost" in figures:
        goals.append(["drain loses nothing", f"{figures['drain_lost']:.0f} lost", goal(figures["drain_lost"] == 0)])
    return goals


def distance_to_uvicorn(figures: dict[str, float]) -> str:
    if "uvicorn:abs_rps" not in figures:
        return ""
    return ("\n**Distance to Uvicorn** (uvloop + httptools), requests/s of Uvicorn over resync_fsm's: "
            + ", ".join(f"{figures['uvicorn:abs_rps'] / figures[f'{loop}:abs_rps']:.2f}× on {loop}" for loop in LOOPS)
            + "; server CPU per request, resync_fsm's over Uvicorn's: "
            + ", ".join(f"{figures[f'{loop}:abs_cpu_us'] / figures['uvicorn:abs_cpu_us']:.2f}× on {loop}"
                        for loop in LOOPS)
            + ". Where it goes: see *Where the time goes under load*.\n")


def drain_section(quick: bool) -> tuple[str, dict[str, float]]:
    drained = trio.run(drain.run, 24, 0.5, 1 if quick else 2)
    rows = []
    for name, c, exit_median in drained:
        sent = sum(c.values())
        rows.append([name, str(sent), str(c["ok"]), str(c["refused"]), str(c["cut"]),
                     f"{100 * (sent - c['ok']) / max(sent, 1):.1f}%", f"{exit_median:.2f} s"])
    lost = sum(sum(c.values()) - c["ok"] for name, c, _ in drained if name.startswith("resync"))
    return ("## Drain behind a lagging balancer\n\n24 clients on fresh connections, each request 0.5 s "
            "(`tests.e2e.apps:slow_app`); SIGTERM; the clients keep sending for 0.5 s after it, as a load balancer "
            "does before it drops the endpoint. Counted: requests in flight at the signal or started after it, "
            "summed over the trials (a refused connect is retried at once, so refusals pile up).\n\n"
            + table(["server", "requests", "full 200", "refused", "cut", "lost", "SIGTERM to exit (median)"], rows),
            {"drain_lost": float(lost)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--sigterm-trials", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of load per trial")
    parser.add_argument("--quick", action="store_true", help="fewer trials, shorter loads (a smoke run)")
    parser.add_argument("--skip", default="", help="comma-separated section keys to leave out (see --list)")
    parser.add_argument("--list", action="store_true", help="print the section keys and exit")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if args.list:
        print("\n".join(f"{key:12} {what}" for key, what in SECTIONS.items()))
        return
    skip = {key.strip() for key in args.skip.split(",") if key.strip()}
    if skip - set(SECTIONS):
        parser.error(f"unknown section keys {sorted(skip - set(SECTIONS))}; known: {', '.join(SECTIONS)}")
    trials = min(2, args.trials) if args.quick else args.trials
    sigterm_trials = min(5, args.sigterm_trials) if args.quick else args.sigterm_trials
    seconds = min(2.0, args.seconds) if args.quick else args.seconds
    started = time.monotonic()
    precompile()
    sections: list[str] = []
    figures: dict[str, float] = {}
    timings: list[str] = []

    def measure(key: str, produce: Callable[[], tuple[str, dict[str, float]] | str]) -> None:
        if key in skip:
            return
        print(f"{SECTIONS[key]} ...", flush=True)
        begun = time.monotonic()
        result = produce()
        text, f = result if isinstance(result, tuple) else (result, {})
        sections.append(text.rstrip("\n") + "\n")
        figures.update(f)
        timings.append(f"{key} {time.monotonic() - begun:.0f} s")

    def serving() -> tuple[str, dict[str, float]]:
        text, f = per_loop(trials, seconds)
        profile_text, _ = import_profile(5)
        bare, added = wrapper.run()
        return ("## Each loop beside bare Hypercorn, and Uvicorn\n\n" + text
                + f"\nIn process (`bench/wrapper.py`), the health wrapper adds {added:.2f} µs to a request "
                f"({bare:.2f} µs for the bare app call).\n\n" + profile_text), f

    def sigterms() -> tuple[str, dict[str, float]]:
        text, f = sigterm_per_loop(sigterm_trials)
        return "## SIGTERM → /readyz 503 under saturating load\n\n" + text, f

    def prototypes() -> str:
        text, f = loops.run(trials, seconds, sigterm_trials)
        return "## Why guest mode\n\n" + why_guest(f) + "\n" + text

    def stops() -> tuple[str, dict[str, float]]:
        text, f = stop_latency(trials * 2)
        return "## Stop latency\n\n" + text, f

    def fan_out() -> tuple[str, dict[str, float]]:
        fan = fanout.run(200, 1.0, 1 if args.quick else 3)
        return ("## Probe fan-out\n\nN = 200 loopback endpoints whose accept queue is full (a connect hangs), 1 s "
                "timeout, each variant a whole process (interpreter start and imports included): `resync-fsm check` "
                "against the two TCP checks quoted in the seed plan (`bench/seed_checks.py`).\n\n"
                + table(["variant", "median wall time", "ratio to the asyncio check"],
                        [[name, f"{wall:.3f} s", f"{ratio:.2f}"] for name, wall, ratio in fan])), {"fanout": fan[0][2]}

    measure("default", lambda: default.report(trials, sigterm_trials=min(8, sigterm_trials), quick=args.quick))
    measure("loops", serving)
    measure("sigterm", sigterms)
    measure("profile", lambda: "## Where the time goes under load\n\n" + profiles(2.0 if args.quick else 3.0))
    measure("prototypes", prototypes)
    measure("stop", stops)
    measure("commands", lambda: "## Commands that serve nothing\n\n" + commands(trials * 2))
    measure("fanout", fan_out)
    measure("drain", lambda: drain_section(args.quick))
    measure("rolling", lambda: rolling.report(trials=trials))
    measure("metrics", lambda: metrics.report(trials, seconds, 50_000 if args.quick else 200_000))
    measure("access-log", lambda: access_log.report(trials, seconds, 20_000 if args.quick else 50_000))
    measure("engines", lambda: engines.report(trials, seconds, quick=args.quick))
    measure("instructions", lambda: instructions.report(500 if args.quick else 2000))
    workers = optional_report("workers")
    if workers is not None:
        measure("workers", lambda: call_report(workers, trials=trials, seconds=seconds, quick=args.quick))
    elif "workers" not in skip:
        timings.append("workers: bench/workers.py not there")

    elapsed = time.monotonic() - started
    command = (f"python -m bench.run --quick --trials {trials}" if args.quick else
               f"python -m bench.run --trials {trials} --sigterm-trials {sigterm_trials} --seconds {seconds:g}")
    command += f" --skip {','.join(sorted(skip))}" if skip else ""
    goals = goal_rows(figures)
    document = (
        "# Benchmarks\n\n"
        f"Generated by `{command}` on {datetime.date.today().isoformat()}, in {elapsed:.0f} s "
        f"({'; '.join(timings)}).\n\n"
        f"Machine: {machine()}. Shared and noisy: every comparison below is measured "
        "side by side in the same run, variants interleaved, and reported as medians or ratios of medians. "
        "The project's modules are byte-compiled first, as an installed package's are. Loopback only; every "
        "load is bounded in time.\n\n"
        + ("## Goals\n\n" + table(["goal", "measured", ""], goals) if goals else "")
        + distance_to_uvicorn(figures) + (ANALYSIS if "loops" not in skip else "") + "\n" + "\n".join(sections)
    )
    Path(args.output).write_text(document, encoding="utf-8")
    print(document)


if __name__ == "__main__":
    main()
