"""``--reload``'s parts without processes (issue 22): which changed files reload (Uvicorn's rule, checked
against Uvicorn's own FileFilter) and the queue of reloads (on trio's MockClock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st
from uvicorn.supervisors.watchfilesreload import FileFilter as UvicornFilter

from resync_fsm.serving.workers.watching import FileFilter, reload_on_change

_PATTERNS = ["*.py", "*.html", "*.txt", ".*", ".py[cod]", ".sw.*", "~*", "templates/*", "*.tmp"]
_PARTS = st.sampled_from(["app.py", "x.html", ".hidden.py", "a.pyc", "~backup.py", ".x.swp", "templates",
                          "notes.txt", "pkg", "y.tmp"])


@settings(max_examples=200, deadline=None)
@given(includes=st.lists(st.sampled_from(_PATTERNS), max_size=3),
       excludes=st.lists(st.sampled_from(_PATTERNS), max_size=3),
       parts=st.lists(_PARTS, min_size=1, max_size=4))
def test_the_file_filter_is_uvicorns(includes: list[str], excludes: list[str], parts: list[str]) -> None:
    path = Path("/srv", *parts)
    theirs = UvicornFilter(SimpleNamespace(reload_includes=includes, reload_excludes=excludes))  # type: ignore[arg-type]
    assert FileFilter(includes, excludes)(path) == theirs(path), (includes, excludes, path)


def test_defaults_reload_python_files_only() -> None:
    keep = FileFilter(("*.py",), (".*", ".py[cod]", ".sw.*", "~*"))
    assert keep(Path("/srv/app.py")) and keep(Path("/srv/pkg/mod.py"))
    assert not any(keep(Path(p)) for p in ("/srv/.app.py", "/srv/app.pyc", "/srv/x.html", "/srv/.app.py.swp"))


class _Pool:
    def __init__(self) -> None:
        self.started: list[float] = []

    async def reload(self) -> None:
        self.started.append(trio.current_time())
        await trio.sleep(1.0)  # a generation's start


async def _batches(times: list[float]) -> AsyncIterator[set[str]]:
    for at in times:
        await trio.sleep_until(at)
        yield {f"/srv/change-{at}.py"}


async def test_changes_during_a_reload_queue_exactly_one_more(mock_clock: trio.testing.MockClock) -> None:
    mock_clock.autojump_threshold = 0
    pool = _Pool()
    # t=0 starts a reload (until t=1); 0.2, 0.4, 0.6 arrive meanwhile: one more, at t=1; t=5: a third
    await reload_on_change(pool, _batches([0.0, 0.2, 0.4, 0.6, 5.0]))
    assert pool.started == [0.0, 1.0, 5.0]
