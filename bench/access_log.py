"""The access log's cost: requests/s of the same resync_fsm server with ``--access-log`` on vs off.

Both variants log at info in JSON to /dev/null (the access events are rendered and
written, as in production off a TTY); trials interleaved, ratio of medians; wrk
pinned to CPU 1 and the server to CPU 0 with taskset when there are two cores (else the trio client).

    .venv/bin/python bench/access_log.py [--trials 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import interleaved, machine, median, precompile  # noqa: E402
from bench.load import load  # noqa: E402
from bench.servers import APP, PY, Server  # noqa: E402

BASE = [PY, "-m", "resync_fsm", "--app", APP, "--bind", "127.0.0.1:{port}", "--log-format", "json",
        "--log-level", "info"]
VARIANTS = {"access log off": BASE, "access log on": [*BASE, "--access-log"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    precompile()
    # server on core 0, wrk on core 1, as bench/run.py does, when both cores and taskset are there
    pin = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    tools: set[str] = set()

    def run(argv: list[str]) -> float:
        with Server(["taskset", "-c", "0", *argv] if pin else argv, "/readyz") as server:
            load(server.port, seconds=1.0, cpu=1 if pin else None)  # warm up
            rps, _p99, tool = load(server.port, seconds=args.seconds, cpu=1 if pin else None)
            tools.add(tool)
            return rps

    samples = interleaved({name: (lambda argv=argv: run(argv)) for name, argv in VARIANTS.items()}, args.trials)
    off, on = median(samples["access log off"]), median(samples["access log on"])
    print(f"{machine()}; load: {', '.join(sorted(tools))}{' (server on CPU 0, load on CPU 1)' if pin else ''}; "
          f"{args.trials} interleaved trials of {args.seconds:g} s")
    print("| variant | median requests/s | trials |")
    print("|---|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {median(values):.0f} | {', '.join(f'{v:.0f}' for v in values)} |")
    print(f"\nratio on/off: {on / off:.3f}")


if __name__ == "__main__":
    main()
