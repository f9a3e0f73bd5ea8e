"""HealthWrapper as a plain ASGI app: scopes in, recorded messages out, no server (DESIGN §5)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

from resync_fsm.web.health import STATUS_EXTENSION, HealthWrapper
from resync_fsm.web.metrics import RunnerMetrics

from ..fakes import FakeView

Message = dict[str, Any]


class RecordingApp:
    """Answers 200 ``app`` with ``headers``; records every scope it saw. With ``hold``, each HTTP request
    waits for ``release`` (recording ``in_flight`` and the status extension's answer meanwhile)."""

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None, *, hold: bool = False) -> None:
        self.headers = headers or []
        self.hold = hold
        self.scopes: list[dict[str, Any]] = []
        self.entered = trio.Event()
        self.release = trio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        if scope["type"] != "http":
            return
        if self.hold:
            self.entered.set()
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), *self.headers]})
        await send({"type": "http.response.body", "body": b"app"})


def http(path: str, method: str = "GET", *, http_version: str = "1.1", query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": http_version, "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
            "root_path": "", "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def call(wrapper: HealthWrapper, scope: dict[str, Any],
               receive: Callable[[], Awaitable[Message]] = no_body) -> list[Message]:
    """Call the wrapper once; return what it sent, in order."""
    sent: list[Message] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await wrapper(scope, receive, send)
    return sent


def status_of(sent: list[Message]) -> int:
    return int(sent[0]["status"])


def headers_of(sent: list[Message]) -> list[tuple[bytes, bytes]]:
    return [(bytes(k).lower(), bytes(v)) for k, v in sent[0]["headers"]]


def json_of(sent: list[Message]) -> Any:
    return json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def metrics() -> RunnerMetrics:
    return RunnerMetrics(FakeView())  # web/ is tested with no runner (issue 21)


@pytest.mark.parametrize(("path", "view", "code", "body"), [
    ("/livez", FakeView(), 200, {"live": True, "state": "serving"}),
    ("/livez", FakeView(live=False, state="failed"), 503, {"live": False, "state": "failed"}),
    ("/readyz", FakeView(), 200, {"ready": True, "state": "serving"}),
    ("/readyz", FakeView(ready=False, state="draining"), 503, {"ready": False, "state": "draining"}),
    ("/status", FakeView(ready=False, state="probing"),
     200, {"state": "probing", "ready": False, "probes": [], "in_flight": 0}),
])
async def test_endpoints_answer_from_the_view(path: str, view: FakeView, code: int, body: Any) -> None:
    app = RecordingApp()
    sent = await call(HealthWrapper(app, view), http(path))
    assert status_of(sent) == code
    assert (b"content-type", b"application/json") in headers_of(sent)
    assert json_of(sent) == body
    assert app.scopes == []


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/status"])
async def test_head_is_answered_like_get(path: str) -> None:
    app = RecordingApp()
    wrapper = HealthWrapper(app, FakeView(ready=False))
    head, get = await call(wrapper, http(path, "HEAD")), await call(wrapper, http(path))
    assert status_of(head) == status_of(get) == (503 if path == "/readyz" else 200)
    assert headers_of(head) == headers_of(get)
    assert app.scopes == []


async def test_status_as_mermaid_highlights_the_state() -> None:
    sent = await call(HealthWrapper(RecordingApp(), FakeView(state="draining")),
                      http("/status", query=b"format=mermaid"))
    assert status_of(sent) == 200
    assert (b"content-type", b"text/plain; charset=utf-8") in headers_of(sent)
    text = sent[1]["body"].decode()
    assert text.startswith("stateDiagram") and "draining" in text


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/livez"), ("DELETE", "/status"), ("PUT", "/readyz"),
    ("GET", "/"), ("GET", "/livez/"), ("GET", "/api/readyz"), ("HEAD", "/other"),
])
async def test_other_methods_and_paths_go_to_the_app(method: str, path: str) -> None:
    app = RecordingApp()
    sent = await call(HealthWrapper(app, FakeView()), http(path, method))
    assert (status_of(sent), sent[1]["body"]) == (200, b"app")
    assert [(s["method"], s["path"]) for s in app.scopes] == [(method, path)]


async def test_paths_are_configurable() -> None:
    app = RecordingApp()
    wrapper = HealthWrapper(app, FakeView(ready=False), livez="/-/live", readyz="/-/ready", status="/-/status")
    assert json_of(await call(wrapper, http("/-/live"))) == {"live": True, "state": "serving"}
    assert status_of(await call(wrapper, http("/-/ready"))) == 503
    assert json_of(await call(wrapper, http("/-/status")))["state"] == "serving"
    for path in ("/livez", "/readyz", "/status"):  # the defaults are the app's paths now
        assert (await call(wrapper, http(path)))[1]["body"] == b"app"
    assert [s["path"] for s in app.scopes] == ["/livez", "/readyz", "/status"]


async def test_lifespan_passes_through_uncounted() -> None:
    app = RecordingApp()
    wrapper = HealthWrapper(app, FakeView())
    assert await call(wrapper, {"type": "lifespan", "asgi": {"version": "3.0"}}) == []
    assert [s["type"] for s in app.scopes] == ["lifespan"]
    assert STATUS_EXTENSION not in app.scopes[0].get("extensions", {})
    assert wrapper.in_flight == 0


@pytest.mark.parametrize("with_metrics", [False, True], ids=["plain", "metrics"])
async def test_in_flight_counts_app_requests_and_returns_to_zero(with_metrics: bool) -> None:
    app = RecordingApp(hold=True)
    wrapper = HealthWrapper(app, FakeView(), metrics=metrics() if with_metrics else None)
    answers: list[list[Message]] = []

    async def request() -> None:
        answers.append(await call(wrapper, http("/work")))

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(request)
        await trio.testing.wait_all_tasks_blocked()
        assert wrapper.in_flight == 3
        assert json_of(await call(wrapper, http("/status")))["in_flight"] == 3  # health hits are not counted
        app.release.set()
    assert wrapper.in_flight == 0 and wrapper.cut == 0
    assert [status_of(a) for a in answers] == [200, 200, 200]


async def test_an_app_error_is_not_a_cut_and_leaves_nothing_in_flight() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("bug")

    wrapper = HealthWrapper(broken, FakeView())
    with pytest.raises(RuntimeError, match="bug"):
        await call(wrapper, http("/"))
    assert (wrapper.in_flight, wrapper.cut) == (0, 0)


@pytest.mark.parametrize("with_metrics", [False, True], ids=["plain", "metrics"])
async def test_a_cancelled_request_counts_as_cut(with_metrics: bool, autojump_clock: trio.abc.Clock) -> None:
    app = RecordingApp(hold=True)  # never released: the graceful timeout cancels it
    wrapper = HealthWrapper(app, FakeView(), metrics=metrics() if with_metrics else None)
    with trio.move_on_after(30) as scope:
        await call(wrapper, http("/slow"))
    assert scope.cancelled_caught
    assert (wrapper.in_flight, wrapper.cut) == (0, 1)


@pytest.mark.parametrize("with_metrics", [False, True], ids=["plain", "metrics"])
@pytest.mark.parametrize("path", ["/app", "/livez", "/readyz", "/status"])
@pytest.mark.parametrize("app_headers", [[], [(b"Connection", b"keep-alive")]], ids=["no-header", "keep-alive"])
async def test_draining_http1_responses_carry_one_connection_close(
    path: str, app_headers: list[tuple[bytes, bytes]], with_metrics: bool
) -> None:
    wrapper = HealthWrapper(RecordingApp(app_headers), FakeView(), metrics=metrics() if with_metrics else None)
    before = await call(wrapper, http(path))
    assert [v for k, v in headers_of(before) if k == b"connection"] == ([b"keep-alive"] if path == "/app"
                                                                         and app_headers else [])
    wrapper.draining = True
    for version in ("1.0", "1.1"):
        sent = await call(wrapper, http(path, http_version=version))
        assert [v for k, v in headers_of(sent) if k == b"connection"] == [b"close"]


@pytest.mark.parametrize("with_metrics", [False, True], ids=["plain", "metrics"])
@pytest.mark.parametrize("path", ["/app", "/livez", "/status"])
async def test_draining_http2_responses_get_no_connection_header(path: str, with_metrics: bool) -> None:
    # RFC 9113 §8.2.2: connection-specific headers are malformed in HTTP/2; GOAWAY closes instead
    wrapper = HealthWrapper(RecordingApp(), FakeView(), metrics=metrics() if with_metrics else None)
    wrapper.draining = True
    sent = await call(wrapper, http(path, http_version="2"))
    assert status_of(sent) == 200
    assert [k for k, _ in headers_of(sent) if k == b"connection"] == []


async def test_the_app_sees_the_status_extension() -> None:
    app = RecordingApp(hold=True)
    wrapper = HealthWrapper(app, FakeView(state="draining", ready=False))
    scope = http("/page")
    scope["extensions"] = {"http.response.trailers": {}}  # what the server offers is kept
    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, wrapper, scope)
        await app.entered.wait()
        extensions = app.scopes[0]["extensions"]
        assert "http.response.trailers" in extensions
        assert extensions[STATUS_EXTENSION]() == {"state": "draining", "ready": False, "probes": [],
                                                  "in_flight": 1}
        app.release.set()


async def test_beyond_the_limit_503_with_retry_after_and_health_still_answered() -> None:
    app = RecordingApp(hold=True)
    wrapper = HealthWrapper(app, FakeView(), limit=2)
    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(call, wrapper, http("/busy"))
        await trio.testing.wait_all_tasks_blocked()
        with trio.fail_after(5):  # a third request let through would be held: fail, do not hang
            busy = await call(wrapper, http("/one-more"))
        assert status_of(busy) == 503
        assert (b"retry-after", b"1") in headers_of(busy)
        assert [s["path"] for s in app.scopes] == ["/busy", "/busy"]  # the app never saw it
        assert status_of(await call(wrapper, http("/livez"))) == 200
        assert status_of(await call(wrapper, http("/readyz"))) == 200
        assert json_of(await call(wrapper, http("/status")))["in_flight"] == 2
        closed = await call(wrapper, {"type": "websocket", "path": "/ws", "headers": []})
        assert closed == [{"type": "websocket.close", "code": 1013}]  # try again later
        app.release.set()
    app.hold = False
    assert status_of(await call(wrapper, http("/after"))) == 200  # room again


async def test_draining_busy_503_carries_connection_close() -> None:
    app = RecordingApp(hold=True)
    wrapper = HealthWrapper(app, FakeView(), limit=1)
    wrapper.draining = True
    async with trio.open_nursery() as nursery:
        nursery.start_soon(call, wrapper, http("/busy"))
        await app.entered.wait()
        try:
            with trio.fail_after(5):
                busy = await call(wrapper, http("/one-more"))
            assert status_of(busy) == 503
            assert [v for k, v in headers_of(busy) if k == b"connection"] == [b"close"]
        finally:
            app.release.set()


class WebsocketClient:
    """The server's side of one websocket: ``receive`` hands the app what the client sent
    (websocket.connect first); ``sent`` records what the app sent to the client."""

    def __init__(self) -> None:
        self.to_app, self._from_client = trio.open_memory_channel[Message](10)
        self.to_app.send_nowait({"type": "websocket.connect"})
        self.sent: list[Message] = []
        self.changed = trio.Event()

    async def receive(self) -> Message:
        return await self._from_client.receive()

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))
        if message["type"] == "websocket.close":  # a server answers the close handshake with a disconnect
            self.to_app.send_nowait({"type": "websocket.disconnect", "code": message["code"]})
        self.changed.set()
        self.changed = trio.Event()

    async def wait_for(self, count: int) -> None:
        with trio.fail_after(5):  # a websocket the wrapper never closes fails, it does not hang
            while len(self.sent) < count:
                await self.changed.wait()


class EchoWebsocketApp:
    """Accepts, echoes text and records what it received, until a disconnect."""

    def __init__(self) -> None:
        self.received: list[Message] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message["text"]})


def websocket_scope() -> dict[str, Any]:
    return {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "ws",
            "path": "/ws", "raw_path": b"/ws", "query_string": b"", "root_path": "", "headers": [],
            "subprotocols": []}


async def test_a_websocket_gets_1001_when_the_listener_closes() -> None:
    app = EchoWebsocketApp()
    client = WebsocketClient()
    wrapper = HealthWrapper(app, FakeView())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wrapper, websocket_scope(), client.receive, client.send)
        await client.wait_for(1)
        client.to_app.send_nowait({"type": "websocket.receive", "text": "hi"})
        await client.wait_for(2)
        assert wrapper.in_flight == 1
        assert STATUS_EXTENSION in app.scope["extensions"]
        wrapper.listener_closing()
        await client.wait_for(3)
    assert [m["type"] for m in client.sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert client.sent[-1]["code"] == 1001  # going away (RFC 6455 §7.4.1)
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 1001}
    assert wrapper.draining and (wrapper.in_flight, wrapper.cut) == (0, 0)


async def test_what_an_app_sends_after_the_1001_is_dropped() -> None:
    client = WebsocketClient()
    late: list[str] = []

    async def stubborn(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await wrapper_closed.wait()
        await send({"type": "websocket.send", "text": "late"})
        late.append("sent")
        assert (await receive())["type"] == "websocket.disconnect"

    wrapper_closed = trio.Event()
    wrapper = HealthWrapper(stubborn, FakeView())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wrapper, websocket_scope(), client.receive, client.send)
        await client.wait_for(1)
        wrapper.listener_closing()
        await client.wait_for(2)
        wrapper_closed.set()
    assert late == ["sent"]
    assert [m["type"] for m in client.sent] == ["websocket.accept", "websocket.close"]


async def test_a_websocket_opened_after_the_listener_closed_gets_1001(autojump_clock: trio.abc.Clock) -> None:
    app = EchoWebsocketApp()
    client = WebsocketClient()
    wrapper = HealthWrapper(app, FakeView())
    wrapper.listener_closing()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wrapper, websocket_scope(), client.receive, client.send)
        await client.wait_for(2)
    assert [m["type"] for m in client.sent] == ["websocket.accept", "websocket.close"]


async def test_the_servers_lifespan_is_answered_and_the_apps_state_copied_into_each_scope() -> None:
    app = RecordingApp()
    wrapper = HealthWrapper(app, FakeView())
    state: dict[str, Any] = {"pool": []}
    wrapper.answer_server_lifespan(state)  # what serving_app does: resync_fsm runs the app's lifespan itself
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> Message:
        return next(messages)

    answered = await call(wrapper, {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive)
    assert answered == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert app.scopes == []  # the app's lifespan is not run a second time
    client = WebsocketClient()
    await call(wrapper, http("/a"))
    await call(wrapper, http("/b"))
    await wrapper(websocket_scope(), client.receive, client.send)
    for scope in app.scopes:
        assert scope["state"] == state and scope["state"] is not state  # a shallow copy each (ASGI)
        assert scope["state"]["pool"] is state["pool"]
    assert len({id(scope["state"]) for scope in app.scopes}) == 3
    assert len({id(scope["extensions"]) for scope in app.scopes}) == 3  # one request's changes stay its own


async def test_an_apps_status_is_counted_as_sent_and_no_response_as_the_servers_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope["path"]
        if path == "/before":
            raise RuntimeError("before the response")
        if path == "/silent":
            return  # returned without responding: the server answers 500

        async def own_send(message: Message) -> None:  # a middleware's own async send wrapper
            await send(message)

        await own_send({"type": "http.response.start", "status": 203, "headers": []})
        for _ in range(100):
            await own_send({"type": "http.response.body", "body": b"x", "more_body": True})
        await own_send({"type": "http.response.body", "body": b""})
        if path == "/after":
            raise RuntimeError("after the response started")

    wrapper = HealthWrapper(app, FakeView(), metrics=metrics())
    assert len(await call(wrapper, http("/chunks"))) == 102
    assert len(await call(wrapper, http("/chunks", "HEAD"))) == 102
    for path in ("/before", "/after"):
        with pytest.raises(RuntimeError):
            await call(wrapper, http(path))
    assert await call(wrapper, http("/silent")) == []
    assert wrapper.metrics is not None
    counted = {labels: series.count for labels, series in wrapper.metrics.requests()}
    assert counted == {("GET", "2xx"): 2, ("HEAD", "2xx"): 1, ("GET", "5xx"): 2}
    assert (wrapper.in_flight, wrapper.cut) == (0, 0)


async def test_the_app_receives_an_awaitable_callable_as_send() -> None:
    # ASGI asks of send only that send(message) be awaitable; the wrapper's is a plain function returning
    # the server's awaitable (no coroutine of its own per message: docs/benchmarks.md "Instructions per request")
    returned: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        pending = send({"type": "http.response.start", "status": 204, "headers": []})
        returned.append(inspect.isawaitable(pending))
        await pending
        await send({"type": "http.response.body", "body": b""})

    sent = await call(HealthWrapper(app, FakeView()), http("/"))
    assert returned == [True] and sent[0]["status"] == 204
