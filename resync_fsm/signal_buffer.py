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

__all__ = ["HANDLED", "Interrupted", "ignore", "install", "interruptible", "restore", "take"]

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)

_kept: list[int] = []
_STOPPING = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
_interruptible = False


class Interrupted(Exception):
    """A stopping signal arrived while the CLI was blocked before the runner (reading a config
    file from a FIFO or a slow pipe, say): the command ends with 128 + ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _keep(signum: int, _frame: FrameType | None) -> None:
    _kept.append(signum)
    if _interruptible and signum in _STOPPING:
        raise Interrupted(signum)


class interruptible:  # noqa: N801 - a context manager named for what it makes the code inside
    """Inside it, a stopping signal raises :class:`Interrupted` at once instead of being kept:
    for the blocking work the CLI does before the runner watches (reading every source)."""

    def __enter__(self) -> None:
        global _interruptible
        _interruptible = True
        if any(signum in _STOPPING for signum in _kept):
            raise Interrupted(next(signum for signum in _kept if signum in _STOPPING))

    def __exit__(self, *exc: object) -> None:
        global _interruptible
        _interruptible = False


def ignore() -> None:
    """Ignore every handled signal from now on: the lifecycle has ended and the exit code is
    decided. (The interpreter puts the default action back for Python-level handlers while it
    finalizes, so a repeated SIGTERM in those milliseconds would otherwise end it with 143.)"""
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED:
            signal.signal(signum, signal.SIG_IGN)


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
