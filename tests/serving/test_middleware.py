"""What the server calls: the health wrapper itself, or the middlewares the settings ask for around it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from resync_fsm.serving.lifespan import Lifespan
from resync_fsm.serving.middleware import serving_app
from resync_fsm.settings import Settings, load_settings
from resync_fsm.web.access_log import AccessLog
from resync_fsm.web.health import HealthWrapper
from resync_fsm.web.proxy_headers import ProxyHeaders

from ..fakes import FakeView


async def app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called here")


def served(settings: Settings) -> tuple[Any, HealthWrapper]:
    wrapper = HealthWrapper(app, FakeView())
    lifespan = cast(Lifespan, SimpleNamespace(state={}))  # only its state is read here
    return serving_app(wrapper, lifespan, settings), wrapper


def test_without_middlewares_the_server_calls_the_wrapper_itself() -> None:
    outer, wrapper = served(Settings())
    assert outer is wrapper and wrapper.lifespan_state is not None


def test_the_access_log_skips_every_runner_endpoint_unless_asked() -> None:
    env = {"RESYNC_FSM_ACCESS_LOG_ENABLED": "true", "RESYNC_FSM_SERVER_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    outer, wrapper = served(load_settings(environ=env, env_file=None))
    assert isinstance(outer, ProxyHeaders) and isinstance(outer.app, AccessLog) and outer.app.app is wrapper
    assert outer.app.skip == {"/livez", "/readyz", "/status", "/metrics"}
    logged, _ = served(load_settings(environ={**env, "RESYNC_FSM_ACCESS_LOG_HEALTH": "true"}, env_file=None))
    assert logged.app.skip == frozenset()
