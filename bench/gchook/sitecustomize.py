"""Loaded by bench/gcpause.py through PYTHONPATH: appends every full (generation 2) collection's
duration in ms to the file named by $RESYNC_FSM_BENCH_GC_LOG, as it happens."""

import gc
import os
import time

_path = os.environ.get("RESYNC_FSM_BENCH_GC_LOG")
if _path:
    _started: list[float] = []

    def _measure(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            _started[:] = [time.perf_counter()]
        elif _started:
            with open(_path, "a") as log:
                log.write(f"{(time.perf_counter() - _started[0]) * 1000:.3f}\n")

    gc.callbacks.append(_measure)
