"""Fan-out: `resync-fsm check` against the seed's two TCP checks, N silent endpoints, whole processes.

    python -m bench.fanout [--n 200] [--timeout 1] [--trials 3]

Each variant is a fresh process (interpreter start and imports included),
run in interleaved rounds; the table gives medians and the ratio to the
asyncio check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.common import interleaved, median, precompile, timed_process
from bench.from_tests import silent_endpoints
from bench.servers import ROOT


def run(n: int, timeout: float, trials: int) -> list[tuple[str, float, float]]:
    with silent_endpoints(n) as ports, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "fanout.toml"
        config.write_text(f"[startup]\ntimeout = {timeout}\n" + "".join(
            f'\n[[probes]]\nname = "p{i}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {port}\ntimeout = {timeout}\n'
            for i, port in enumerate(ports)))
        targets = [f"127.0.0.1:{port}" for port in ports]
        seed = [sys.executable, "-m", "bench.seed_checks"]
        variants = {
            "resync-fsm check": lambda: timed_process(
                [sys.executable, "-m", "resync_fsm", "check", "--config", str(config)], cwd=tmp),
            "seed: asyncio.open_connection": lambda: timed_process([*seed, "asyncio", str(timeout), *targets],
                                                                   cwd=ROOT),
            "seed: thread pool (run_in_executor)": lambda: timed_process(
                [*seed, "threadpool", str(timeout), *targets], cwd=ROOT),
        }
        samples = interleaved(variants, trials)
    base = median(samples["seed: asyncio.open_connection"])
    return [(name, median(values), median(values) / base) for name, values in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    precompile()
    print(f"fan-out: N={args.n} silent loopback endpoints, {args.timeout:g} s timeout, {args.trials} trials")
    for name, wall, ratio in run(args.n, args.timeout, args.trials):
        print(f"  {name:38s} {wall:7.3f} s   {ratio:5.2f}x asyncio")


if __name__ == "__main__":
    main()
