"""Signals that arrive before the runner watches for them, kept instead of acted on by default.

Installed first thing by ``python -m resync_fsm`` and the console script: until
the runner's watcher replays them (:mod:`resync_fsm.runner.signals`), a SIGINT
is no KeyboardInterrupt traceback and a SIGTERM or SIGHUP no silent death.
Commands other than ``run`` call :func:`restore`; a SIGINT kept until then
means "interrupted" (exit 130). Imports nothing heavy: ``--version`` stays fast.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["HANDLED", "install", "restore", "take"]

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)

_kept: list[int] = []


def _keep(signum: int, _frame: FrameType | None) -> None:
    _kept.append(signum)


def install() -> None:
    """Keep every signal of :data:`HANDLED` from now on (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, _keep)


def restore() -> list[int]:
    """Put the default handlers back (SIGINT raises KeyboardInterrupt again); return what was kept."""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    return take()


def take() -> list[int]:
    """The signals kept so far, oldest first; forgets them."""
    kept = list(_kept)
    del _kept[: len(kept)]
    return kept
