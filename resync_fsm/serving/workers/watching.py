"""``server.reload``: a new generation on every change of a watched file (DESIGN §9; Uvicorn's ``--reload``).

The supervisor (:class:`~.pool.WorkerPool`, one worker) runs :func:`reload_on_change` once it serves:
each batch of changes (watchfiles; an editor's save is one batch) asks for a reload, the reload of
:mod:`.generations` (the new generation first, freshly imported; the old one drains only once the new
one has completed its lifespan startup; a new one that fails is discarded, the old keeps serving). A
change while a reload is under way queues one more reload, after it; more changes meanwhile join that
one. Which files count is Uvicorn's rule (:class:`FileFilter`), over ``server.reload_dirs``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Protocol

import trio

from ...logs import get_logger
from ...settings.model import ServerSettings

__all__ = ["DEFAULT_EXCLUDES", "DEFAULT_INCLUDES", "FileFilter", "changes", "reload_on_change"]

log = get_logger("resync_fsm.reload")

DEFAULT_INCLUDES = ("*.py",)  # uvicorn.supervisors.watchfilesreload.FileFilter's defaults
DEFAULT_EXCLUDES = (".*", ".py[cod]", ".sw.*", "~*")
_SHOWN = 5  # changed paths named in one reload_change event


class FileFilter:
    """Whether a changed path reloads, as Uvicorn decides (``FileFilter`` of its watchfiles reloader):
    it matches an include pattern (``*.py`` unless excluded, plus ``includes``), is under no excluded
    directory (an exclude that names one) and matches no exclude pattern (the defaults unless included,
    plus ``excludes``); a path whose text ends with an include pattern always reloads. Patterns are
    ``pathlib`` globs matched from the right (``Path.match``)."""

    def __init__(self, includes: Iterable[str], excludes: Iterable[str]) -> None:
        includes, excludes = tuple(includes), tuple(excludes)
        self.includes = sorted({*(d for d in DEFAULT_INCLUDES if d not in excludes), *includes})
        dirs = {e for e in excludes if Path(e).is_dir()}
        self.exclude_dirs = [Path(d).resolve() for d in dirs]
        self.excludes = sorted({*(d for d in DEFAULT_EXCLUDES if d not in includes), *(set(excludes) - dirs)})

    def __call__(self, path: Path) -> bool:
        """True when a change of ``path`` (absolute) reloads."""
        for pattern in self.includes:
            if not path.match(pattern):
                continue
            if str(path).endswith(pattern):
                return True
            if any(d in path.parents for d in self.exclude_dirs):
                return False
            return not any(path.match(e) for e in self.excludes)
        return False


async def changes(server: ServerSettings) -> AsyncIterator[set[str]]:
    """Each batch of changed paths under ``server.reload_dirs`` that :class:`FileFilter` keeps, until
    cancelled. watchfiles' synchronous watcher runs in a thread (debounced: a batch ends 50 ms after
    its last change, 1.6 s at most); cancelled, the thread is abandoned and stops within 50 ms."""
    import watchfiles  # only with server.reload

    logging.getLogger("watchfiles.main").setLevel(logging.WARNING)  # its "1 change detected" repeats ours
    keep = FileFilter(server.reload_includes, server.reload_excludes)
    stop = threading.Event()
    batches = watchfiles.watch(*_roots(server), stop_event=stop,
                               watch_filter=lambda _change, path: keep(Path(path)),
                               yield_on_timeout=True, ignore_permission_denied=True, rust_timeout=1000)
    try:
        while True:
            batch = await trio.to_thread.run_sync(next, batches, None, abandon_on_cancel=True)
            if batch is None:
                return
            if batch:
                yield {path for _change, path in batch}
    finally:
        stop.set()


def _roots(server: ServerSettings) -> list[str]:
    return [os.path.abspath(d) for d in server.reload_dirs]  # changes come as absolute paths


class Reloads(Protocol):
    """What :func:`reload_on_change` needs of the supervisor."""

    async def reload(self) -> None:
        """Start a new generation (:func:`.generations.reload`)."""


async def reload_on_change(pool: Reloads, batches: AsyncIterator[set[str]]) -> None:
    """A reload of ``pool`` for each batch of ``batches`` (each logged: ``reload_change``); a batch while
    a reload is under way queues one more (at most one), run once that one has finished. Runs until
    ``batches`` ends or the task is cancelled."""
    wanted, queue = trio.open_memory_channel[None](1)

    async def reload_each() -> None:
        async for _ in queue:
            await pool.reload()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reload_each)
        async for paths in batches:
            log.info("reload_change", paths=sorted(paths)[:_SHOWN], changed=len(paths))
            try:
                wanted.send_nowait(None)
            except trio.WouldBlock:
                pass  # a reload is queued already: it imports this change too
        await wanted.aclose()
