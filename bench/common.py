"""Helpers for the benchmarks: interleaved trials, medians, the machine's description, whole-process timing."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def precompile() -> None:
    """Byte-compile the project's modules first, as an installed package is.

    Installed packages ship compiled; an editable checkout is compiled on import and,
    where PYTHONDONTWRITEBYTECODE is set (as on these machines), again on every start:
    that would charge resync_fsm (and the test apps) a compile the others never pay.
    """
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "resync_fsm"), str(root / "tests")],
                   check=True, stdout=subprocess.DEVNULL, timeout=120)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {system}"


def interleaved(variants: dict[str, Callable[[], float]], trials: int) -> dict[str, list[float]]:
    """Run each variant once per round, rounds in turn, so that noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(trials):
        for name, run in variants.items():
            samples[name].append(run())
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed_process(argv: list[str], *, limit: float = 120.0, **kw: object) -> float:
    """Wall time of one whole process, spawn to exit."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit, check=False, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - start


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section that starts with the line ``heading`` in the Markdown file ``path`` by
    ``section`` (up to the next ``## `` heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    head, _, rest = text.partition("\n" + heading + "\n")
    tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
    path.write_text(head.rstrip("\n") + "\n\n" + section + tail, encoding="utf-8")
