"""Issue 14: the production surface's settings, proxy headers, access log and concurrency limit (no server)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import structlog

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import load_settings
from resync_fsm.settings.activation import listen_fds, unset
from resync_fsm.web.access_log import AccessLog
from resync_fsm.web.health import HealthWrapper
from resync_fsm.web.proxy_headers import ProxyHeaders, parse_forwarded

from .fakes import FakeView as View  # an always-ready HealthView

NOWHERE = Path("/nonexistent-dir")


def problems(environ: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ConfigurationValidationError) as caught:
        load_settings(environ=environ, cwd=NOWHERE)
    assert caught.value.exit_code == 78
    return {p["field"]: p["problem"] for p in caught.value.details["problems"]}


def test_each_new_setting_names_itself_when_invalid(tmp_path: Path) -> None:
    found = problems({
        "RESYNC_FSM_SERVER_FORWARDED_ALLOW_IPS": "10.0.0.0/8, proxy.local",
        "RESYNC_FSM_SERVER_KEEP_ALIVE_TIMEOUT": "0",
        "RESYNC_FSM_SERVER_BACKLOG": "70000",
        "RESYNC_FSM_SERVER_UNIX_SOCKET_MODE": "999",
        "RESYNC_FSM_SERVER_UNIX_SOCKET_OWNER": "no-such-user-here",
        "RESYNC_FSM_SERVER_APP_DIR": str(tmp_path / "missing"),
        "RESYNC_FSM_SERVER_LIFESPAN": "maybe",
        "RESYNC_FSM_SERVER_BIND": "fd://999",
        "RESYNC_FSM_TLS_CIPHERS": "NOT-A-CIPHER",
        "RESYNC_FSM_TLS_CLIENT_CERT": "required",
    })
    for name in ("FORWARDED_ALLOW_IPS", "KEEP_ALIVE_TIMEOUT", "BACKLOG", "UNIX_SOCKET_MODE",
                 "UNIX_SOCKET_OWNER", "APP_DIR", "LIFESPAN", "BIND"):
        assert f"RESYNC_FSM_SERVER_{name}" in found, found
    assert "RESYNC_FSM_TLS_CIPHERS" in found
    assert found["RESYNC_FSM_TLS_CLIENT_CERT"] == "only applies with TLS: set tls.certfile and tls.keyfile"


def test_a_certificate_without_its_key_names_the_missing_field(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("not PEM")
    assert problems({"RESYNC_FSM_TLS_CERTFILE": str(cert)}) == {"tls.keyfile": "required with tls.certfile: "
                                                                               "TLS needs both"}


def test_values_parse_to_what_the_backend_takes() -> None:
    settings = load_settings(environ={
        "RESYNC_FSM_SERVER_FORWARDED_ALLOW_IPS": "127.0.0.1, 10.0.0.0/8, ::1",
        "RESYNC_FSM_SERVER_ROOT_PATH": "/api/",
        "RESYNC_FSM_SERVER_UNIX_SOCKET_MODE": "0660",
        "RESYNC_FSM_SERVER_UNIX_SOCKET_OWNER": "root:0",
    }, cwd=NOWHERE)
    server = settings.server
    assert server.forwarded_allow_ips == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
    assert server.root_path == "/api" and server.unix_socket_mode == 0o660
    assert server.unix_socket_owner == (0, 0)


def test_activation_takes_the_sockets_only_for_this_pid() -> None:
    environ = {"LISTEN_FDS": "2", "LISTEN_PID": "1234", "LISTEN_FDNAMES": "http:admin"}
    assert listen_fds(environ, pid=1234) == [(3, "http"), (4, "admin")]
    assert listen_fds(environ, pid=99) == []
    unset(environ)
    assert environ == {}


def test_an_explicit_bind_wins_over_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:
        environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(__import__("os").getpid())}
        explicit = load_settings(environ={**environ, "RESYNC_FSM_SERVER_BIND": f"fd://{listener.fileno()}"},
                                 cwd=NOWHERE)
        assert explicit.server.bind == (f"fd://{listener.fileno()}",)
        assert load_settings(environ={**environ, "RESYNC_FSM_SERVER_BIND": "127.0.0.1:0"},
                             cwd=NOWHERE).server.bind == ("127.0.0.1:0",)


def test_a_descriptor_that_is_not_listening_is_refused() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert "RESYNC_FSM_SERVER_BIND" in problems({"RESYNC_FSM_SERVER_BIND": f"fd://{left.fileno()}"})


class Recorder:
    """An ASGI app recording the scope it saw, answering 200 with a 5-byte body."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = dict(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})


def http_scope(client: str, path: str = "/x", **headers: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http",
            "client": (client, 5555), "http_version": "1.1",
            "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]}


async def call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(("peer", "headers", "client", "scheme", "host"), [
    # trusted peer: the right-most untrusted X-Forwarded-For entry; a forged left part is not believed
    ("10.0.0.5", {"x_forwarded_for": "6.6.6.6, 203.0.113.9", "x_forwarded_proto": "https",
                  "x_forwarded_host": "shop.example"}, "203.0.113.9", "https", "shop.example"),
    ("10.0.0.5", {"x_forwarded_for": "203.0.113.9, 10.0.0.7"}, "203.0.113.9", "http", None),
    # an untrusted peer's headers are ignored entirely
    ("203.0.113.50", {"x_forwarded_for": "6.6.6.6", "x_forwarded_proto": "https"}, "203.0.113.50", "http", None),
    # RFC 7239 Forwarded, preferred over X-Forwarded-*; IPv6 in brackets with a port
    ("10.0.0.5", {"forwarded": 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https;host=a.example',
                  "x_forwarded_for": "9.9.9.9"}, "2001:db8::1", "https", "a.example"),
    ("10.0.0.5", {"x_forwarded_proto": "gopher"}, "10.0.0.5", "http", None),
])
async def test_proxy_headers_trust_by_peer_address(peer: str, headers: dict[str, str], client: str, scheme: str,
                                                   host: str | None) -> None:
    app = Recorder()
    await call(ProxyHeaders(app, ("10.0.0.0/8",)), http_scope(peer, **headers))
    assert app.scope["client"][0] == client
    assert app.scope["scheme"] == scheme
    assert dict(app.scope["headers"]).get(b"host") == (host.encode() if host else None)


def test_forwarded_parses_quoted_values() -> None:
    assert parse_forwarded('for="_gazonk", For="[2001:db8:cafe::17]:4711";proto=https') == [
        {"for": "_gazonk"}, {"for": "[2001:db8:cafe::17]:4711", "proto": "https"}]


async def test_access_log_event_field_by_field() -> None:
    app = AccessLog(Recorder(), skip=frozenset({"/livez"}))
    scope = http_scope("192.0.2.1", path="/orders", x_request_id="req-42")
    scope["query_string"] = b"page=2&api_key=hunter22"
    with structlog.testing.capture_logs() as logs:
        await call(app, scope)
        await call(app, http_scope("192.0.2.1", path="/livez"))
    assert len(logs) == 1
    event = logs[0]
    assert event.pop("duration_ms") >= 0
    assert event == {"event": "access", "log_level": "info", "method": "GET", "path": "/orders?page=2&api_key=***",
                     "status": 200, "bytes": 5, "client": "192.0.2.1:5555", "request_id": "req-42"}


async def test_beyond_the_limit_503_but_health_still_answers() -> None:
    wrapper = HealthWrapper(Recorder(), View(), limit=1)
    wrapper.in_flight = 1  # one request already in the app
    busy = await call(wrapper, http_scope("192.0.2.1"))
    assert busy[0]["status"] == 503 and (b"retry-after", b"1") in busy[0]["headers"]
    assert (await call(wrapper, http_scope("192.0.2.1", path="/readyz")))[0]["status"] == 200
    wrapper.in_flight = 0
    assert (await call(wrapper, http_scope("192.0.2.1")))[0]["status"] == 200
