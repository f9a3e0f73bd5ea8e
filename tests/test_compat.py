"""Resync's API: cached validation behind a trio.Lock, fail_fast honoured, cleanup that resets."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from resync_fsm import compat
from resync_fsm.compat import check_http, check_tcp, cleanup_resources, get_validated_settings
from resync_fsm.errors import ConfigurationValidationError

from .servers import HttpRecorder, serving


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cleanup_resources()


async def test_cached_until_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = compat.load_settings

    def counting(**kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(**kw)

    monkeypatch.setattr(compat, "load_settings", counting)
    kw = {"environ": {}, "cwd": Path("/nonexistent")}
    async with trio.open_nursery() as nursery:  # concurrent callers validate once
        for _ in range(5):
            nursery.start_soon(lambda: get_validated_settings(**kw))
    first = await get_validated_settings(**kw)
    assert await get_validated_settings(**kw) is first
    assert len(calls) == 1
    cleanup_resources()
    assert await get_validated_settings(**kw) is not first
    assert len(calls) == 2


async def test_fail_fast_false_raises() -> None:
    with pytest.raises(ConfigurationValidationError):
        await get_validated_settings(fail_fast=False, environ={"SERVER_PORT": "x"}, cwd=Path("/nonexistent"))


async def test_fail_fast_true_exits_78(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        await get_validated_settings(fail_fast=True, environ={"SERVER_PORT": "x"}, cwd=Path("/nonexistent"))
    assert exc.value.code == 78
    err = capsys.readouterr().err
    assert err.startswith("ConfigurationValidationError: ") and "SERVER_PORT" in err


async def test_check_tcp_and_http() -> None:
    async with serving(HttpRecorder({"GET": 200})) as port:
        assert await check_tcp("127.0.0.1", port) is True
        assert await check_http(f"http://127.0.0.1:{port}/") is True
    assert await check_tcp("127.0.0.1", port, timeout=1.0) is False
    assert await check_http(f"http://127.0.0.1:{port}/", timeout=1.0) is False
