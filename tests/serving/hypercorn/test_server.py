"""Hypercorn's Config from the settings, field by field (the listeners are bound beforehand, the access log and
proxy headers are resync_fsm's own), and the drain budget."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import pytest

from resync_fsm.serving.hypercorn import HypercornServer, hypercorn_config, patches
from resync_fsm.serving.loop_bridge import TrioBridge
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.settings.model import TLSSettings
from resync_fsm.web.health import HealthWrapper

from ...certs import Certs
from ...fakes import FakeView


@pytest.mark.parametrize(("server", "attribute", "expected"), [
    ({"graceful_timeout": 7}, "graceful_timeout", 7.0),
    ({"keep_alive_timeout": 11.5}, "keep_alive_timeout", 11.5),
    ({"max_header_size": 4096}, "h11_max_incomplete_size", 4096),
    ({"max_header_size": 4096}, "h2_max_header_list_size", 4096),
    ({"websocket_ping_interval": 15}, "websocket_ping_interval", 15.0),
    ({"websocket_ping_interval": 0}, "websocket_ping_interval", None),  # 0: no pings
    ({"server_header": False}, "include_server_header", False),
    ({"server_header": True}, "include_server_header", True),
    ({"root_path": "/api"}, "root_path", ""),  # applied in front of the app on every engine (web/root_path.py)
    ({"h2c": True}, patches.H2C_ATTRIBUTE, True),
    ({"h2c": False}, patches.H2C_ATTRIBUTE, False),
    ({}, "accesslog", None),  # serving_app logs access, for every engine
    ({}, "certfile", None),
    ({}, "ssl_enabled", False),
])
def test_each_server_setting_maps_to_its_config_attribute(server: dict[str, Any], attribute: str,
                                                          expected: object) -> None:
    assert getattr(hypercorn_config(Settings(server=ServerSettings(**server))), attribute) == expected


def test_errors_go_to_the_hypercorn_error_logger() -> None:
    assert hypercorn_config(Settings()).errorlog is logging.getLogger("hypercorn.error")


@pytest.mark.parametrize(("client_cert", "mode"), [("none", ssl.CERT_NONE), ("optional", ssl.CERT_OPTIONAL),
                                                   ("required", ssl.CERT_REQUIRED)])
def test_tls_maps_files_ciphers_alpn_and_the_client_certificate_mode(certs: Certs, client_cert: str,
                                                                     mode: ssl.VerifyMode) -> None:
    tls = TLSSettings(certfile=str(certs.cert), keyfile=str(certs.key), ca_certs=str(certs.ca),
                      ciphers="ECDHE+CHACHA20", client_cert=client_cert)
    config = hypercorn_config(Settings(tls=tls))
    assert (config.certfile, config.keyfile, config.ca_certs) == (str(certs.cert), str(certs.key), str(certs.ca))
    assert config.ciphers == "ECDHE+CHACHA20" and config.verify_mode == mode
    assert config.alpn_protocols == ["h2", "http/1.1"] and config.ssl_enabled
    assert config.create_ssl_context() is not None  # what Hypercorn makes of it loads


def test_the_drain_budget_is_the_graceful_timeout_plus_the_lifespan_shutdown() -> None:
    settings = Settings(server=ServerSettings(loop="trio", graceful_timeout=7, shutdown_timeout=4))
    server = HypercornServer(HealthWrapper(_app, FakeView()), settings, lambda error: None, TrioBridge())
    assert server.drain_budget == 11.0


async def _app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not served here")
