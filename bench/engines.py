"""resync_fsm on Uvicorn against bare Uvicorn, on the same app (issue 15), as a Markdown section.

    python -m bench.engines [--trials 5] [--seconds 5] [--quick] [--write docs/benchmarks.md]

`--engine uvicorn --loop uvloop` against `uvicorn --loop uvloop --http httptools`,
on `tests.e2e.apps:hello_app` and on a small FastAPI app (`bench/fastapi_app.py`):
time from spawn to the first 200 (resync_fsm: `/readyz`; Uvicorn: `/`), then
requests/s under wrk (server pinned to CPU 0, wrk to CPU 1, when taskset and two
cores are there) and resident memory after the load. Trials interleaved, figures
are medians and ratios of medians. Loopback only, a few minutes. `--write`
replaces the section `## Uvicorn engine` at the end of that file (or appends it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.common import interleaved, machine, precompile
from bench.load import load
from bench.servers import PY, TRIO_FIRST, Server, time_to_ready

APPS = {"hello app": "tests.e2e.apps:hello_app", "FastAPI app": "bench.fastapi_app:app"}
HEADING = "## Uvicorn engine"
GOALS = {"requests/s": (0.95, ">="), "time to ready": (1.15, "<="), "RSS": (1.2, "<=")}


def variants(app: str) -> dict[str, tuple[list[str], str]]:
    """name -> (argv with {port}, the path that answers 200 once ready)."""
    return {
        "resync_fsm --engine uvicorn --loop uvloop": (
            [PY, "-m", "resync_fsm", "--engine", "uvicorn", "--loop", "uvloop", "--app", app,
             "--bind", "127.0.0.1:{port}", "--log-format", "json", "--log-level", "warning"], "/readyz"),
        "uvicorn --loop uvloop --http httptools": (
            [PY, "-m", "uvicorn", *UVICORN_OPTIONS, app], "/"),
        FLOOR: ([PY, "-c", TRIO_FIRST.format(main="uvicorn.main"), *UVICORN_OPTIONS, app], "/"),
    }


UVICORN_OPTIONS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
                   "--host", "127.0.0.1", "--port", "{port}"]
# The floor of any server whose lifecycle runs on trio: bare Uvicorn, started after `import trio`.
FLOOR = "the same Uvicorn, trio imported first"


def ready_times(app: str, trials: int) -> dict[str, float]:
    runs = {name: partial(time_to_ready, *spec) for name, spec in variants(app).items()}
    samples = interleaved(runs, trials)  # type: ignore[arg-type]
    return {name: statistics.median(values) for name, values in samples.items()}


def under_load(app: str, trials: int, seconds: float) -> tuple[dict[str, tuple[float, float]], str]:
    """name -> (median requests/s, median RSS in MiB); and the load tool's name."""
    pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    tool = ""

    def once(argv: list[str], path: str) -> Callable[[], float]:
        def run() -> float:
            nonlocal tool
            with Server(["taskset", "-c", "0", *argv] if pin else argv, path) as server:
                load(server.port, connections=50, seconds=1.0, cpu=1 if pin else None)  # warm up
                rps, _, tool = load(server.port, connections=50, seconds=seconds, cpu=1 if pin else None)
                rss[id(argv)].append(server.rss_mib())
                return rps
        return run

    specs = variants(app)
    rss: dict[int, list[float]] = {id(argv): [] for argv, _ in specs.values()}
    samples = interleaved({name: once(*spec) for name, spec in specs.items()}, trials)
    result = {name: (statistics.median(samples[name]), statistics.median(rss[id(argv)]))
              for name, (argv, _) in specs.items()}
    return result, tool + (" (server pinned to CPU 0, load to CPU 1)" if pin else "")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def report(trials: int = 5, seconds: float = 5.0, quick: bool = False) -> str:
    """The ``## Uvicorn engine`` section, measured now (``quick``: 2 trials of 2 s)."""
    trials, seconds = (2, 2.0) if quick else (trials, seconds)
    precompile()
    ours, bare, _ = variants("")
    rows, goal_rows, tool = [], [], ""
    for label, app in APPS.items():
        print(f"{label}: time to ready ...", flush=True)
        ready = ready_times(app, trials * 2)
        print(f"{label}: load ...", flush=True)
        loaded, tool = under_load(app, trials, seconds)
        for name in (ours, bare, FLOOR):
            rows.append([label, f"`{name}`" if name != FLOOR else name, f"{loaded[name][0]:.0f}",
                         f"{ready[name] * 1000:.0f} ms", f"{loaded[name][1]:.1f} MiB"])
        ratios = {"requests/s": loaded[ours][0] / loaded[bare][0], "time to ready": ready[ours] / ready[bare],
                  "RSS": loaded[ours][1] / loaded[bare][1]}
        for what, ratio in ratios.items():
            limit, sense = GOALS[what]
            met = ratio >= limit if sense == ">=" else ratio <= limit
            floor = {"time to ready": f" (floor: {ready[FLOOR] / ready[bare]:.2f})",
                     "RSS": f" (floor: {loaded[FLOOR][1] / loaded[bare][1]:.2f})"}.get(what, "")
            goal_rows.append([label, f"{what} {sense.replace('>=', '≥').replace('<=', '≤')} {limit} × bare Uvicorn",
                              f"{ratio:.3f}{floor}", "met" if met else "**missed**"])
    options = "--quick" if quick else f"--trials {trials} --seconds {seconds:g}"
    return (
        f"{HEADING}\n\nGenerated by `python -m bench.engines {options}` on {machine()}. "
        f"resync_fsm serving with Uvicorn against bare Uvicorn on the same app, trials interleaved: "
        f"time from spawn to the first 200 (resync_fsm: `/readyz`, so after its validation, probing and the "
        f"app's lifespan; Uvicorn: `/`), median of {trials * 2}; the floor is bare Uvicorn started by `python -c` "
        f"after `import trio`, what any server whose lifecycle runs on trio starts with; requests/s with {tool}, "
        f"1 thread, 50 keep-alive "
        f"connections, {seconds:g} s after a 1 s warm-up, median of {trials}; resident memory right after the load.\n\n"
        + table(["goal", "app", "measured", ""], [[r[1], r[0], r[2], r[3]] for r in goal_rows])
        + "\n" + table(["app", "server", "requests/s", "time to ready", "RSS"], rows)
        + WHY
    )


WHY = """
**Reading it.** The *floor* rows are bare Uvicorn started by `python -c` after `import trio` and nothing
else: what any server whose lifecycle runs on trio (resync_fsm's does, on every loop) pays before its
first answer. Its time to ready is above 1.15 × bare Uvicorn on this machine, so that goal cannot be
met while the lifecycle is trio; its memory is most of the RSS gap too. Above the floor, resync_fsm adds
structlog, anyio (a FastAPI app imports it anyway), the settings classes and the runner's modules,
then validating, binding and the app's lifespan. Once serving, the gap to bare Uvicorn is the health
wrapper's per-request work: routing the health endpoints, counting the request in flight (the drain
needs it), its status and duration for `/metrics` (plain counters; prometheus_client renders them only
when scraped), and the `send` wrapper that adds `Connection: close` while draining. At Uvicorn's
~25 µs of CPU per hello-app request, each µs of that is 4%; on the FastAPI app, which costs more per
request, the same work is a smaller share.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="2 trials of 2 s (a smoke run)")
    parser.add_argument("--write", metavar="FILE", help="replace or append the section in FILE")
    args = parser.parse_args()
    section = report(args.trials, args.seconds, args.quick)
    print(section)
    if args.write:
        path = Path(args.write)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        text = text.split("\n" + HEADING + "\n")[0].rstrip("\n")
        path.write_text(text + "\n\n" + section, encoding="utf-8")


if __name__ == "__main__":
    main()
