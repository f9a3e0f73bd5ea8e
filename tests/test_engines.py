"""Issue 15: ``server.engine`` chooses Hypercorn or Uvicorn behind the same lifecycle (the default, ``auto``:
tests/settings/test_auto.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.serving import engine_for
from resync_fsm.settings import ServerSettings, Settings, load_settings
from resync_fsm.settings.fields import field


def load(environ: dict[str, str], flags: dict[str, str] | None = None) -> Settings:
    return load_settings(environ=environ, flags=flags, cwd=Path("/nonexistent-dir"))


def test_auto_is_the_default_engine_and_picks_uvicorn_for_an_asyncio_app() -> None:
    assert field("server.engine").default == "auto"
    assert load({}).server.engine == "uvicorn"


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_uvicorn_serves_asyncio_and_uvloop(loop: str) -> None:
    server = load({"RESYNC_FSM_SERVER_ENGINE": "uvicorn"}, {"server.loop": loop}).server
    assert (server.engine, server.loop) == ("uvicorn", loop)


def test_uvicorn_with_trio_is_78_naming_both_fields() -> None:
    with pytest.raises(ConfigurationValidationError) as info:
        load({"RESYNC_FSM_SERVER_LOOP": "trio"}, {"server.engine": "uvicorn"})
    text = str(info.value)
    assert info.value.exit_code == 78
    assert "--engine" in text and "RESYNC_FSM_SERVER_LOOP" in text  # where each value came from
    assert "server.engine" in text and "server.loop" in text and "hypercorn" in text  # and what to do
    with pytest.raises(ValueError, match="server.engine and server.loop"):
        ServerSettings(engine="uvicorn", loop="trio")


def test_uvicorn_without_the_extra_is_78_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    with pytest.raises(ConfigurationValidationError) as info:
        load({"RESYNC_FSM_SERVER_ENGINE": "uvicorn"})
    assert info.value.exit_code == 78
    assert "RESYNC_FSM_SERVER_ENGINE" in str(info.value) and "pip install 'resync_fsm[uvicorn]'" in str(info.value)


@pytest.mark.parametrize(("engine", "backend"), [("hypercorn", "hypercorn_engine"), ("uvicorn", "uvicorn_engine")])
def test_the_backend_follows_the_engine(engine: str, backend: str) -> None:
    assert engine_for(load({"RESYNC_FSM_SERVER_ENGINE": engine})).__name__ == backend
