"""``needs_asyncio`` (issue 22): the marks of asyncio code run on trio, wherever they sit in an error."""

from __future__ import annotations

import pytest
import sniffio

from resync_fsm.serving.middleware import needs_asyncio


def _caused(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize("error", [
    RuntimeError("no running event loop"),
    RuntimeError("There is no current event loop in thread 'MainThread'."),
    sniffio.AsyncLibraryNotFoundError("unknown async library, or not in async context"),
    TypeError("trio.run received unrecognized yield message None. Are you trying to use a library ..."),
    _caused(ValueError("wrapped by the app"), RuntimeError("no running event loop")),
    ExceptionGroup("from a task group", [KeyError("x"), RuntimeError("no running event loop")]),
])
def test_marks_of_asyncio_code(error: BaseException) -> None:
    assert needs_asyncio(error)


@pytest.mark.parametrize("error", [RuntimeError("the database is gone"), TypeError("not a loop problem"),
                                   KeyError("no running event loop"), ExceptionGroup("g", [ValueError("v")])])
def test_other_errors(error: BaseException) -> None:
    assert not needs_asyncio(error)
