"""Uvicorn's Config from the settings, field by field (its lifespan, logging, access log and proxy headers off:
resync_fsm does them), and the drain budget with Uvicorn's own pauses."""

from __future__ import annotations

import importlib.util
import ssl
from typing import Any

import pytest

from resync_fsm.serving.loop_bridge import TrioBridge
from resync_fsm.serving.uvicorn.server import UVICORN_PAUSES, UvicornServer, uvicorn_config
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.settings.model import TLSSettings
from resync_fsm.web.health import HealthWrapper

from ...certs import Certs
from ...fakes import FakeView


async def app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not served here")


@pytest.mark.parametrize(("server", "attribute", "expected"), [
    ({"graceful_timeout": 7}, "timeout_graceful_shutdown", 7.0),
    ({"keep_alive_timeout": 11.5}, "timeout_keep_alive", 11.5),
    ({"backlog": 64}, "backlog", 64),
    ({"max_header_size": 4096}, "h11_max_incomplete_event_size", 4096),
    ({"websocket_ping_interval": 15}, "ws_ping_interval", 15.0),
    ({"websocket_ping_interval": 0}, "ws_ping_interval", None),  # 0: no pings
    ({"server_header": False}, "server_header", False),
    ({"server_header": True}, "server_header", True),
    ({"root_path": "/api"}, "root_path", ""),  # applied in front of the app on every engine (web/root_path.py)
    ({}, "loop", "none"),  # the running host loop
    ({}, "lifespan", "off"),  # resync_fsm runs it (serving/lifespan.py)
    ({}, "interface", "asgi3"),
    ({}, "log_config", None),
    ({}, "access_log", False),  # serving_app logs access, as on Hypercorn
    ({}, "proxy_headers", False),  # serving_app reads them, as on Hypercorn
    ({}, "ssl_certfile", None),
])
def test_each_server_setting_maps_to_its_config_attribute(server: dict[str, Any], attribute: str,
                                                          expected: object) -> None:
    config = uvicorn_config(app, Settings(server=ServerSettings(**server)))
    assert getattr(config, attribute) == expected and config.app is app


def test_httptools_when_installed_else_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = importlib.util.find_spec("httptools") is not None
    assert uvicorn_config(app, Settings()).http == ("httptools" if installed else "h11")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "httptools" else real(name, *a))
    assert uvicorn_config(app, Settings()).http == "h11"


@pytest.mark.parametrize(("client_cert", "mode"), [("none", ssl.CERT_NONE), ("optional", ssl.CERT_OPTIONAL),
                                                   ("required", ssl.CERT_REQUIRED)])
def test_tls_maps_files_ciphers_and_the_client_certificate_mode(certs: Certs, client_cert: str,
                                                                mode: ssl.VerifyMode) -> None:
    tls = TLSSettings(certfile=str(certs.cert), keyfile=str(certs.key), ca_certs=str(certs.ca),
                      ciphers="ECDHE+CHACHA20", client_cert=client_cert)
    config = uvicorn_config(app, Settings(tls=tls))
    assert (config.ssl_certfile, config.ssl_keyfile, config.ssl_ca_certs) == (
        str(certs.cert), str(certs.key), str(certs.ca))
    assert config.ssl_ciphers == "ECDHE+CHACHA20" and config.ssl_cert_reqs == mode and config.is_ssl


def test_the_drain_budget_adds_uvicorns_pauses() -> None:
    settings = Settings(server=ServerSettings(graceful_timeout=7, shutdown_timeout=4))
    server = UvicornServer(HealthWrapper(app, FakeView()), settings, lambda error: None, TrioBridge())
    assert UVICORN_PAUSES > 0 and server.drain_budget == pytest.approx(11.0 + UVICORN_PAUSES)
