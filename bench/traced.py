"""`python -m resync_fsm` with timestamps on the path from SIGTERM to the first /readyz 503 (bench only).

    RESYNC_FSM_BENCH_TRACE=FILE python -m bench.traced --app ... --loop LOOP

Appends `event perf_counter` lines to FILE (perf_counter is CLOCK_MONOTONIC on Linux,
comparable across processes): `handler` when the Python-level SIGTERM handler runs,
`on_signal` when the runner's watcher acts on it, `apply` when the drain event is
applied (readiness turns false), `first_503` when /readyz first answers 503, and
`gc START MS` for every full collection. Patches only; resync_fsm's code is unchanged.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

TRACE = open(os.environ["RESYNC_FSM_BENCH_TRACE"], "a", buffering=1)  # noqa: SIM115


def mark(event: str, extra: str = "") -> None:
    TRACE.write(f"{event} {time.perf_counter():.6f} {extra}\n")


_install = signal.signal


def traced_signal(signum, handler):  # type: ignore[no-untyped-def]
    if signum == signal.SIGTERM and callable(handler):
        original = handler

        def handler(s, frame):  # type: ignore[no-untyped-def]
            mark("handler")
            return original(s, frame)
    return _install(signum, handler)


signal.signal = traced_signal  # type: ignore[assignment]

from resync_fsm.runner import core, signals  # noqa: E402
from resync_fsm.web import endpoints  # noqa: E402

_on_signal = signals.on_signal


def on_signal(runner, signum):  # type: ignore[no-untyped-def]
    mark("on_signal")
    return _on_signal(runner, signum)


signals.on_signal = on_signal
_apply = core.Runner._apply


def apply(self, event):  # type: ignore[no-untyped-def]
    _apply(self, event)
    if event.name == "drain":
        mark("apply")


core.Runner._apply = apply  # type: ignore[method-assign]
_readyz = endpoints.Endpoints.readyz  # patched before the health wrapper binds its routes
_seen_503 = []


async def readyz(self, scope, send):  # type: ignore[no-untyped-def]
    if not _seen_503 and not self.view.ready()[0]:
        _seen_503.append(1)
        mark("first_503")
    await _readyz(self, scope, send)


endpoints.Endpoints.readyz = readyz  # type: ignore[method-assign]
_gc_start: list[float] = []


def gc_hook(phase: str, info: dict[str, int]) -> None:
    if info["generation"] == 2:
        if phase == "start":
            _gc_start[:] = [time.perf_counter()]
        elif _gc_start:
            mark("gc", f"{_gc_start[0]:.6f} {(time.perf_counter() - _gc_start[0]) * 1000:.2f}")


gc.callbacks.append(gc_hook)

from resync_fsm.cli import main  # noqa: E402

sys.exit(main())
