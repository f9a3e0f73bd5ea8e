"""The health wrapper's inline request counting (issue 25): the same series as RunnerMetrics.observe_request,
for whatever method a client sends and whatever status an app sends."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.runner import Runner
from resync_fsm.settings import Settings
from resync_fsm.web.health import HealthWrapper
from resync_fsm.web.metrics import HTTP_METHODS, RunnerMetrics

from ..fakes import FakeView
from .test_health import call, http


def metrics() -> RunnerMetrics:
    async def load() -> Settings:
        return Settings()

    return RunnerMetrics(Runner(load, handle_signals=False).view)


STATUSES = (st.integers(min_value=-10**4, max_value=10**4) | st.sampled_from([0, 99, 100, 599, 600, 200.0, 404.5])
            | st.booleans() | st.none() | st.text(max_size=4) | st.just([200]))


@given(method=st.sampled_from(sorted(HTTP_METHODS)) | st.text(max_size=8), status=STATUSES)
def test_a_request_counts_in_the_series_observe_request_picks(method: str, status: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    wrapper = HealthWrapper(app, FakeView(), metrics=metrics())
    trio.run(call, wrapper, http("/app", method))
    reference = metrics()
    reference.observe_request(method, status or 500, 0.0)  # no status: what the server answers
    assert wrapper.metrics is not None
    assert [labels for labels, _ in wrapper.metrics.requests()] == [labels for labels, _ in reference.requests()]
    assert (wrapper.in_flight, wrapper.cut) == (0, 0)


def test_the_inline_table_is_request_row_for_every_status_it_holds() -> None:
    runner_metrics = metrics()
    table = runner_metrics.request_table()
    assert set(table) == {"GET", "HEAD"}  # the others as they come
    for method in (*HTTP_METHODS, "BREW"):
        runner_metrics.request_row(method, 200)
    assert set(table) == HTTP_METHODS
    for method, rows in table.items():
        assert set(rows) == {0, *range(100, 600)}
        for status, row in rows.items():
            assert row is runner_metrics.request_row(method, status)
    with pytest.raises(KeyError):
        table["GET"][600]
