"""What a worker process answers from and counts: the supervisor's last view, its requests up to max_requests."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import pytest

from resync_fsm.serving.workers.child import RequestCounter, SharedView
from resync_fsm.web.view import HealthView


def view(state: str, ready: bool, **status: Any) -> dict[str, Any]:
    return {"live": [state != "failed", state], "ready": [ready, state], "status": {"state": state, **status}}


def test_the_shared_view_is_the_supervisors_last_word() -> None:
    shared = SharedView(view("serving", True, probes=[]), generation=3)
    health: HealthView = shared
    assert health.live() == (True, "serving") and health.ready() == (True, "serving") and shared.state == "serving"
    assert health.status() == {"state": "serving", "probes": [], "worker": {"pid": os.getpid(), "generation": 3}}
    shared.update(view("draining", False))
    assert shared.live() == (True, "draining") and shared.ready() == (False, "draining")
    assert shared.state == "draining" and shared.status()["state"] == "draining"
    assert shared.status()["worker"]["generation"] == 3


def test_the_shared_view_takes_json_shapes() -> None:
    # what arrives over the channel: lists, not tuples; 0/1 as well as booleans
    shared = SharedView({"live": [1, "serving"], "ready": [0, "serving"], "status": {}}, generation=1)
    assert shared.live() == (True, "serving") and shared.ready() == (False, "serving")


async def _receive() -> MutableMapping[str, Any]:
    return {"type": "http.request"}


async def _send(message: MutableMapping[str, Any]) -> None:
    pass


@pytest.mark.parametrize(("limit", "scopes", "count", "reached"), [
    (3, ["lifespan", "http", "websocket", "http", "http", "http"], 5, 1),  # once, at the third
    (1, ["http", "http"], 2, 1),
    (0, ["http"] * 10, 10, 0),  # 0: no limit
    (5, ["lifespan", "lifespan", "http"], 1, 0),
])
async def test_the_counter_counts_requests_and_websockets_and_says_so_once_at_the_limit(
        limit: int, scopes: list[str], count: int, reached: int) -> None:
    served: list[str] = []
    calls: list[int] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        served.append(scope["type"])

    def reached_limit() -> None:
        calls.append(counter.count)

    counter = RequestCounter(app, limit, reached_limit)
    for kind in scopes:
        await counter({"type": kind}, _receive, _send)
    assert served == scopes  # every scope reaches the app, lifespan too
    assert counter.count == count and len(calls) == reached
    if reached:
        assert calls == [limit]  # said when the limit-th arrived, before the app handled it
