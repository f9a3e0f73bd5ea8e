"""The Uvicorn patch (resync_fsm/serving/uvicorn/patches/) against the installed Uvicorn: the logger it
filters is still the one Uvicorn logs an app's exception on, with the exception as ``exc_info``."""

from __future__ import annotations

import asyncio
import inspect
import logging

import uvicorn.protocols.http.h11_impl as h11_impl
import uvicorn.protocols.http.httptools_impl as httptools_impl

from resync_fsm.serving.uvicorn import patches


def test_uvicorn_still_logs_an_app_exception_on_uvicorn_error_with_exc_info() -> None:
    for module in (h11_impl, httptools_impl):
        source = inspect.getsource(module)
        assert 'logging.getLogger("uvicorn.error")' in source
        assert "Exception in ASGI application" in source and "exc_info=exc" in source


def test_the_filter_drops_only_a_cut_request_and_is_installed_once() -> None:
    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application",
                                 None, (type(error), error, None))

    assert not patches.not_a_cut(record(asyncio.CancelledError()))
    assert patches.not_a_cut(record(RuntimeError("a real bug")))
    patches.install()
    patches.install()
    assert logging.getLogger(patches.LOGGER).filters.count(patches.not_a_cut) == 1
