"""The access log's JSON fast path writes the line structlog would, and gets it out within its flush interval."""

from __future__ import annotations

import io
import json
import os
import re
import select
from collections.abc import Iterator

import pytest

from resync_fsm.logs import configure_logging, get_logger, json_lines
from resync_fsm.redaction import forget_secrets, register_secret
from resync_fsm.web.access_log import AccessLog

from .test_surface import Recorder, call, http_scope

STAMP = re.compile(r'"timestamp": "[^"]+"')


@pytest.fixture(autouse=True)
def secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
    configure_logging()  # back to stdout for the tests after


async def test_the_fast_line_is_structlogs_line() -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    register_secret("hunter22-secret")
    scope = http_scope("2001:db8::1", path="/a/hunter22-secret/ü", x_request_id="r-\"q\"\\-hunter22-secret")
    scope["query_string"] = b"page=2&api_key=k"
    await call(AccessLog(Recorder()), scope)
    json_lines().flush()  # type: ignore[union-attr]
    fast = out.getvalue()
    event = json.loads(fast)
    assert event["path"] == "/a/***/ü?page=2&api_key=***" and event["request_id"] == "r-\"q\"\\-***"
    assert event["client"] == "[2001:db8::1]:5555" and event["status"] == 200 and event["bytes"] == 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event["timestamp"])
    fields = {k: v for k, v in event.items() if k not in ("event", "level", "timestamp")}
    out.seek(0)
    out.truncate()
    get_logger("resync_fsm.access").info("access", **fields)
    assert STAMP.sub("", fast) == STAMP.sub("", out.getvalue())


async def test_filtered_below_info_as_structlog_would() -> None:
    out = io.StringIO()
    configure_logging("warning", "json", out)
    await call(AccessLog(Recorder()), http_scope("192.0.2.1"))
    json_lines().flush()  # type: ignore[union-attr]
    assert out.getvalue() == ""


async def test_a_line_reaches_a_pipe_without_a_flush_within_its_interval() -> None:
    read, write = os.pipe()
    try:
        with os.fdopen(write, "w", closefd=False) as stream:
            configure_logging("info", "json", stream)
            await call(AccessLog(Recorder()), http_scope("192.0.2.1"))
            assert select.select([read], [], [], 5.0)[0], "not flushed"
            assert json.loads(os.read(read, 65536))["event"] == "access"
    finally:
        os.close(read)
        os.close(write)
