"""Worker processes (issue 17): resync_fsm --workers 2 beside bare Hypercorn and Gunicorn, as a Markdown section.

    python -m bench.workers [--trials 3] [--seconds 3] [--write docs/benchmarks.md]

Throughput: the same app (`tests.e2e.apps:hello_app`) served with 2 worker processes
by resync_fsm (default engine Hypercorn, asyncio loop), bare `hypercorn --workers 2
--worker-class asyncio` and `gunicorn -w 2 -k uvicorn.workers.UvicornWorker`; wrk,
1 thread, 50 keep-alive connections, a 1 s warm-up then `seconds`; trials interleaved,
medians. Nothing is pinned: two workers and wrk share the two cores the same way for
every server.

SIGHUP under load: 16 closed-loop clients, each request on a fresh connection
(`tests/e2e/haproxy.py`'s `Load` and its app: a quarter of the clients on a 0.5 s
`/slow`, so requests are in flight when the old workers stop), straight at the server
(no balancer); SIGHUP one second in; the load goes on until a new worker answers, then
`seconds` more (the old workers' drain).
Lost: refused, cut, or not 200 with the full body. Every response names the worker
(pid) that served it, so a trial also tells whether the new generation served.
Gunicorn's rows are skipped with a note when gunicorn is not installed.

`report(trials, seconds)` returns the whole section (`## Workers`); `--write FILE`
replaces that section in FILE or appends it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import time
from collections import Counter
from functools import partial
from pathlib import Path

import attrs
import trio

from bench.common import interleaved, machine, precompile
from bench.from_tests import LIMIT, TAGGED_APP, Load
from bench.load import load
from bench.servers import APP, PY, Server, has_module

HEADING = "## Workers"
GOAL = 0.97  # requests/s of resync_fsm --workers 2 >= GOAL x bare Hypercorn --workers 2
OURS, HYPERCORN, GUNICORN = "resync_fsm --workers 2", "hypercorn --workers 2", "gunicorn -w 2 -k UvicornWorker"
CONNECTIONS, CLIENTS, HUP_AT = 50, 16, 1.0
BIND = "127.0.0.1:{port}"


def variants(app: str) -> dict[str, tuple[list[str], str]]:
    """name -> (argv with {port}, the path that answers 200 once ready); Gunicorn only when installed."""
    out = {
        OURS: ([PY, "-m", "resync_fsm", "--app", app, "--bind", BIND, "--workers", "2",
                "--log-format", "json", "--log-level", "warning"], "/readyz"),
        HYPERCORN: ([PY, "-m", "hypercorn", "--workers", "2", "--worker-class", "asyncio", "--bind", BIND, app], "/"),
    }
    if has_module("gunicorn") and has_module("uvicorn"):
        out[GUNICORN] = ([PY, "-m", "gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker",
                          "--bind", BIND, "--log-level", "warning", app], "/")
    return out


def command(argv: list[str]) -> str:
    shown = ["python" if a == PY else a for a in argv]
    return "`" + " ".join(shown).replace("127.0.0.1:{port}", "127.0.0.1:PORT") + "`"


# --- throughput -------------------------------------------------------------------------------------


def tree_cpu(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of ``pid`` and its descendants (any thread's children), and of ``pid``
    alone, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
    total, own, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(parents.get(current, []))
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        own = total if current == pid else own
    return total / os.sysconf("SC_CLK_TCK"), own / os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Sample:
    rps: float
    p99_ms: float
    cpu_us: float  # server CPU (supervisor + workers) per request, over the measured seconds
    root_us: float  # of which the supervisor's (the process started)


def throughput(trials: int, seconds: float) -> dict[str, list[Sample]]:
    """name -> one Sample per trial, trials interleaved."""
    specs = variants(APP)
    samples: dict[str, list[Sample]] = {name: [] for name in specs}

    def once(name: str) -> float:
        argv, path = specs[name]
        with Server(argv, path) as server:
            assert server.process is not None
            time.sleep(0.3)  # let the second worker finish starting: ready may answer after the first
            load(server.port, connections=CONNECTIONS, seconds=1.0)  # warm up
            cpu, root = tree_cpu(server.process.pid)
            rps, latency, _ = load(server.port, connections=CONNECTIONS, seconds=seconds)
            cpu_after, root_after = tree_cpu(server.process.pid)
        per = 1e6 / (rps * seconds)
        samples[name].append(Sample(rps, latency, (cpu_after - cpu) * per, (root_after - root) * per))
        return rps

    interleaved({name: partial(once, name) for name in specs}, trials)
    return samples


# --- SIGHUP under load ------------------------------------------------------------------------------


@attrs.define
class Reload:
    sent: int
    lost: Counter[str]  # "refused", "cut", "503", ... -> count
    new_served: bool  # responses after the HUP came from worker pids never seen before it, and only from them
    longest_ms: float  # the slowest `/` request started after the HUP
    first_new_s: float  # from the HUP to the first response from a worker not seen before it


async def _hup_under_load(port: int, pid: int, seconds: float) -> Reload:
    """SIGHUP ``pid`` HUP_AT s into the load; the load goes on until a worker not seen before answers,
    then ``seconds`` more (the old generation's drain), all bounded by LIMIT."""
    traffic = Load(port, clients=CLIENTS, slow_every=4, duration=HUP_AT + LIMIT + seconds)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(traffic.run)
        await trio.sleep(HUP_AT)
        hup = trio.current_time()
        before = {r.replica.split(":")[0] for r in traffic.requests if r.replica}
        os.kill(pid, signal.SIGHUP)
        with trio.move_on_after(LIMIT):
            while not {r.replica.split(":")[0] for r in traffic.requests[-200:] if r.replica} - before:  # noqa: ASYNC110
                await trio.sleep(0.05)  # polling the load's record: it has no public event to wait on
        await trio.sleep(seconds)
        await traffic.stop()
    done = traffic.requests
    before |= {r.replica.split(":")[0] for r in done if r.ended < hup and r.replica}
    last = max(r.started for r in done)
    tail = {r.replica.split(":")[0] for r in done if r.started > last - 0.5 and r.replica}
    lost = Counter(r.outcome if r.outcome != "status" else str(r.status) for r in traffic.lost())
    after = [(r.ended - r.started) * 1000 for r in done if r.path == "/" and r.started >= hup]
    first_new = min((r.ended for r in done if r.replica and r.replica.split(":")[0] not in before), default=hup + LIMIT)
    return Reload(len(done), lost, bool(tail) and not tail & before, max(after, default=float("nan")),
                  first_new - hup)


def reloads(trials: int, seconds: float) -> dict[str, list[Reload]]:
    """name -> one Reload per trial, trials interleaved."""
    specs = variants(TAGGED_APP)
    results: dict[str, list[Reload]] = {name: [] for name in specs}
    for _ in range(trials):
        for name, (argv, path) in specs.items():
            with Server(argv, path) as server:
                assert server.process is not None
                time.sleep(0.3)
                results[name].append(trio.run(_hup_under_load, server.port, server.process.pid, seconds))
    return results


# --- the section ------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


HOW = {
    OURS: "a new generation starts and completes its lifespan; then the old one stops accepting and drains",
    HYPERCORN: "every worker stops (graceful) and is joined; then new ones start; the listener stays open",
    GUNICORN: "new workers spawned and the old ones sent SIGTERM at once (graceful), not waiting for the new",
}
THROUGHPUT = (
    "**Throughput.** `GET /` of `tests.e2e.apps:hello_app`; each server a fresh process per trial, {trials} "
    "interleaved rounds; wrk, 1 thread, {connections} keep-alive connections, 1 s warm-up, {seconds:g} s; "
    "medians; server CPU per request from `/proc/PID/stat` (utime + stime of the first process and every "
    "descendant) over the measured seconds. Nothing is pinned: on two cores, two workers and wrk share the "
    "cores whatever the pinning, so pinning would only choose which worker loses to wrk; left to the "
    "scheduler, every server meets the same contention, and the ratio is the figure (the absolute requests/s "
    "are bounded by the load generator on the same machine, and by other work on this shared one: see the "
    "ranges). resync_fsm and Hypercorn serve with Hypercorn's h11 on asyncio; Gunicorn's Uvicorn workers pick "
    "uvloop and httptools when installed (they are here), so that row is an outside reference, not the goal's."
)
RELOAD = (
    "**SIGHUP under load.** `tests.e2e.haproxy:app` (its responses name the worker pid); {clients} closed-loop "
    "clients straight at the server, each request on a fresh connection (`Connection: close`), a quarter of "
    "them on a 0.5 s `/slow`; SIGHUP {hup:g} s in; the load goes on until a worker not seen before answers, "
    "then {seconds:g} s more (the old workers' drain); {trials} trials each, interleaved. Lost: refused, cut, "
    "or not a 200 with the full body. \"New workers served\": in the last 0.5 s only pids never seen before "
    "the HUP answered. Bare Hypercorn (0.18) has no overlapping reload, but it does handle SIGHUP: it stops "
    "every worker, then starts new ones, while requests wait in the listen backlog (the longest-`/` column)."
)


def _goals(rps: dict[str, list[Sample]], hups: dict[str, list[Reload]]) -> list[list[str]]:
    medians = {name: statistics.median(s.rps for s in runs) for name, runs in rps.items()}
    cpu = {name: statistics.median(s.cpu_us for s in runs) for name, runs in rps.items()}
    ratio = medians[OURS] / medians[HYPERCORN]
    paired = statistics.median(a.rps / b.rps for a, b in zip(rps[OURS], rps[HYPERCORN], strict=True))
    beside = f"; beside Gunicorn {medians[OURS] / medians[GUNICORN]:.3f}" if GUNICORN in medians else ""
    counted = "; ".join(f"{name.split()[0]}: {sum(sum(r.lost.values()) for r in hups[name])} lost of "
                        f"{sum(r.sent for r in hups[name])}" for name in (OURS, GUNICORN) if name in hups)
    ours_lost = sum(sum(r.lost.values()) for r in hups[OURS])
    return [[f"requests/s ≥ {GOAL} × bare Hypercorn `--workers 2`",
             f"{ratio:.3f} (median of per-round ratios {paired:.3f}; server CPU per request "
             f"{cpu[OURS] / cpu[HYPERCORN]:.2f} × Hypercorn's){beside}", "met" if ratio >= GOAL else "**missed**"],
            ["SIGHUP under load beside Gunicorn's HUP, lost requests counted for both", counted,
             ("met" if GUNICORN in hups else "**missed** (no Gunicorn)")
             + (", none lost by resync_fsm" if ours_lost == 0 else f", **{ours_lost} lost by resync_fsm**")]]


def _reading(rps: dict[str, list[Sample]]) -> str:
    """A sentence on whether this run separates resync_fsm from Hypercorn at all."""
    ours, bare = ([s.rps for s in rps[name]] for name in (OURS, HYPERCORN))
    cpu = statistics.median(s.cpu_us for s in rps[OURS]) / statistics.median(s.cpu_us for s in rps[HYPERCORN])
    load_average = os.getloadavg()[0]
    if max(ours) < min(bare) or max(bare) < min(ours):
        return f"The requests/s ranges do not overlap (load average {load_average:.1f} at the end of the run)."
    return (f"**Reading.** The requests/s ranges of resync_fsm and Hypercorn overlap (load average "
            f"{load_average:.1f} on {os.cpu_count()} cores at the end of the run: other work shares this machine), "
            f"so this run does not separate them either way and the ratio moves between runs; server CPU per "
            f"request ({cpu:.2f} × Hypercorn's) is the steadier figure of what resync_fsm's workers add.")


def _throughput_rows(rps: dict[str, list[Sample]]) -> list[list[str]]:
    rows = []
    for name, runs in rps.items():
        values = [s.rps for s in runs]
        rows.append([name, command(variants(APP)[name][0]), f"{statistics.median(values):.0f}",
                     f"{min(values):.0f}–{max(values):.0f}", f"{statistics.median(s.p99_ms for s in runs):.1f} ms",
                     f"{statistics.median(s.cpu_us for s in runs):.0f} µs",
                     f"{statistics.median(s.root_us for s in runs):.1f} µs"])
    return rows


def _reload_rows(hups: dict[str, list[Reload]]) -> list[list[str]]:
    rows = []
    for name, done in hups.items():
        lost = [sum(r.lost.values()) for r in done]
        kinds = Counter[str]()
        for r in done:
            kinds.update(r.lost)
        how = ", ".join(f"{n} × {'HTTP ' + k if k.isdigit() else k}" for k, n in sorted(kinds.items())) or "none"
        rows.append([name, HOW[name], str(sum(r.sent for r in done)), str(sum(lost)), f"{statistics.median(lost):g}",
                     how, f"{sum(r.new_served for r in done)}/{len(done)}",
                     f"{statistics.median(r.first_new_s for r in done):.2f} s",
                     f"{statistics.median(r.longest_ms for r in done):.0f} ms"])
    return rows


def report(trials: int, seconds: float) -> str:
    """The whole `## Workers` section (Markdown, heading included), measured now: about trials x 35 s."""
    started = time.perf_counter()
    rps = throughput(trials, seconds)
    hups = reloads(trials, seconds)
    missing = "" if GUNICORN in rps else " Gunicorn's rows are missing: gunicorn is not installed."
    return (
        f"{HEADING}\n\nGenerated by `python -m bench.workers --trials {trials} --seconds {seconds:g}` on "
        f"{machine()}, in {time.perf_counter() - started:.0f} s. Issue 17: two worker processes on the same app, "
        f"beside bare Hypercorn and Gunicorn with Uvicorn workers, in the same run; then a SIGHUP under load."
        f"{missing}\n\n" + table(["goal", "measured", ""], _goals(rps, hups))
        + "\n" + THROUGHPUT.format(trials=trials, connections=CONNECTIONS, seconds=seconds) + "\n\n"
        + table(["server", "command", "requests/s", "range", "p99", "server CPU per request",
                 "of which the first process's"], _throughput_rows(rps)) + "\n" + _reading(rps) + "\n"
        + "\n" + RELOAD.format(clients=CLIENTS, hup=HUP_AT, seconds=seconds, trials=trials) + "\n\n"
        + table(["server", "what SIGHUP does", "requests", "lost, total", "lost, median per trial", "how",
                 "new workers served", "HUP → first new worker's response, median",
                 "longest `/` after HUP, median"], _reload_rows(hups))
    )


def write(path: Path, section: str) -> None:
    """Replace the `## Workers` section of ``path`` (up to the next `## ` heading) or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    head, found, rest = text.partition("\n" + HEADING + "\n")
    tail = "## " + rest.split("\n## ", 1)[1] if found and "\n## " in rest else ""
    body = head.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    path.write_text(body + ("\n" + tail if tail else ""), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--write", metavar="FILE", help="replace or append the `## Workers` section in FILE")
    args = parser.parse_args()
    precompile()
    section = report(args.trials, args.seconds)
    print(section)
    if args.write:
        write(Path(args.write), section)


if __name__ == "__main__":
    main()
