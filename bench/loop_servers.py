"""The servers compared on each loop: resync_fsm and bare Hypercorn (in process, --workers 0) on asyncio,
uvloop and trio, the floor (bare Hypercorn with trio imported first), and Uvicorn as the outside reference.

Shared by bench/run.py (the tables, the import profile, the py-spy profiles) and bench/pyspy.py.
"""

from __future__ import annotations

from bench import sigterm
from bench.servers import APP, PY, TRIO_FIRST, has_module

LOOPS = ("asyncio", "uvloop", "trio")
UVICORN = "Uvicorn (uvloop, httptools)"


def loop_variants() -> dict[str, tuple[list[str], str]]:
    """resync_fsm and bare Hypercorn (in process, --workers 0) on each loop, and Uvicorn as the outside reference."""
    out: dict[str, tuple[list[str], str]] = {}
    for loop in LOOPS:
        out[f"resync_fsm, {loop}"] = (sigterm.resync_argv(loop)[:-6] + ["--log-format", "json", "--log-level",
                                                                         "warning"], "/readyz")
        out[f"Hypercorn, {loop}"] = ([PY, "-m", "hypercorn", "--worker-class", loop, "--workers", "0",
                                      "--bind", "127.0.0.1:{port}", APP], "/")
        if loop != "trio":  # the floor of any lifecycle on trio: the bare server, with trio imported first
            out[f"Hypercorn, {loop}, trio imported first"] = (
                [PY, "-c", TRIO_FIRST.format(main="hypercorn.__main__"), "--worker-class", loop, "--workers", "0",
                 "--bind", "127.0.0.1:{port}", APP], "/")
    if has_module("uvicorn"):
        out[UVICORN] = ([PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop",
                         "--http", "httptools", "--log-level", "warning", APP], "/")
    return out
