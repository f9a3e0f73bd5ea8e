"""ASGI apps the end-to-end tests serve with `--app tests.e2e.apps:NAME` (on any loop: they sleep with anyio)."""

from __future__ import annotations

from typing import Any

import anyio

from resync_fsm.app import complete_lifespan

REQUEST_SECONDS = 0.5


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def slow_app(scope: Any, receive: Any, send: Any) -> None:
    """Every request takes REQUEST_SECONDS, then answers 200 with a body of 1000 bytes."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    await anyio.sleep(REQUEST_SECONDS)
    await _respond(send, 200, b"x" * 1000)


async def hello_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    await _respond(send, 200, b"hello")


def make_app() -> Any:
    """A factory, for --factory."""
    return hello_app


async def startup_failed_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database migrations are missing"})
        return
    await _respond(send, 200, b"never")


async def startup_raises_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        raise RuntimeError("cannot load the model weights")
    await _respond(send, 200, b"never")


async def no_lifespan_app(scope: Any, receive: Any, send: Any) -> None:
    """An app that does not speak lifespan: it raises before reading anything."""
    assert scope["type"] == "http", "lifespan not supported"
    await _respond(send, 200, b"plain")


async def trio_app(scope: Any, receive: Any, send: Any) -> None:
    """A trio app: its handler awaits trio.sleep, which only works with --loop trio."""
    import trio

    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    await trio.sleep(0.01)
    await _respond(send, 200, b"trio")


def _asyncio_sleeper(seconds: float) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        import asyncio

        if scope["type"] == "lifespan":
            await complete_lifespan(receive, send)
            return
        await asyncio.sleep(seconds)
        await _respond(send, 200, b"asyncio")

    return app


asyncio_app = _asyncio_sleeper(0.01)
"""A raw asyncio app: its handler awaits asyncio.sleep (500s when served on trio: no running event loop)."""
asyncio_yield_app = _asyncio_sleeper(0)
"""The same with ``asyncio.sleep(0)``, a bare yield to asyncio's loop: on trio, trio's "unrecognized yield
message" TypeError rather than asyncio's RuntimeError."""


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers JSON with what the app sees: client, scheme, root_path, path, host header, http_version."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    import json

    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    body = json.dumps({"client": list(scope["client"]) if scope.get("client") else None,
                       "scheme": scope["scheme"], "root_path": scope.get("root_path", ""),
                       "path": scope["path"], "host": headers.get("host"),
                       "http_version": scope["http_version"]}).encode()
    await _respond(send, 200, body)


BIG_CHUNKS = 256  # MiB that big_app streams: far more than any socket buffer holds


async def big_app(scope: Any, receive: Any, send: Any) -> None:
    """Streams BIG_CHUNKS MiB: a client that never reads blocks it on the socket's flow control."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    chunk = b"x" * (1 << 20)
    for _ in range(BIG_CHUNKS):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def echo_websocket_app(scope: Any, receive: Any, send: Any) -> None:
    """Accepts a websocket and echoes text until the client (or the server, draining) closes it."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    if scope["type"] != "websocket":
        await _respond(send, 200, b"hello")
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text") or ""})


def _mark(text: str) -> None:
    """Append ``text`` to the file named by RESYNC_TEST_MARKS (when set): what the app did, in order."""
    import os

    path = os.environ.get("RESYNC_TEST_MARKS")
    if path:
        with open(path, "a", encoding="utf-8") as marks:
            marks.write(text + "\n")


async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
    """Its lifespan follows RESYNC_TEST_LIFESPAN: ``slow-startup`` (logs app_startup_begun, then takes
    60 s), ``shutdown-fails`` (sends lifespan.shutdown.failed), ``shutdown-hangs`` (never answers the
    shutdown), ``crash-on-request`` (the lifespan task raises once /crash was requested), otherwise a
    clean start and stop. Every step is marked (see _mark); /slow takes REQUEST_SECONDS."""
    import logging
    import os

    behaviour = os.environ.get("RESYNC_TEST_LIFESPAN", "")
    if scope["type"] == "lifespan":
        await receive()
        _mark("startup")
        if behaviour == "slow-startup":
            logging.getLogger("tests.app").warning("app_startup_begun")
            await anyio.sleep(60)
        await send({"type": "lifespan.startup.complete"})
        _mark("started")
        if behaviour == "crash-on-request":
            await _CRASH.wait()
            raise RuntimeError("the model server went away\n  (a second line of detail)")
        await receive()
        _mark("shutdown")
        if behaviour == "shutdown-fails":
            await send({"type": "lifespan.shutdown.failed", "message": "Traceback (most recent call last):\n"
                        '  File "app.py", line 1\nConnectionError: the pool would not close'})
            return
        if behaviour == "shutdown-hangs":
            await anyio.sleep(60)
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/crash":
        _CRASH.set()
        await _respond(send, 200, b"crashing")
        return
    if scope["path"] == "/slow":
        await anyio.sleep(REQUEST_SECONDS)
    await _respond(send, 200, b"x" * 1000)


class _LazyEvent:
    """An anyio.Event made on first use, on the app's loop."""

    def __init__(self) -> None:
        self._event: Any = None

    def _get(self) -> Any:
        if self._event is None:
            self._event = anyio.Event()
        return self._event

    def set(self) -> None:
        self._get().set()

    async def wait(self) -> None:
        await self._get().wait()


_CRASH = _LazyEvent()


async def pid_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers the serving process's pid (to tell worker processes apart)."""
    import os

    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    await _respond(send, 200, str(os.getpid()).encode())


async def crash_app(scope: Any, receive: Any, send: Any) -> None:
    """Its lifespan startup ends the process at once (exit 3): a worker that can never start."""
    import os

    if scope["type"] == "lifespan":
        await receive()
        os._exit(3)
    await _respond(send, 200, b"never")


_RELEASE = _LazyEvent()


async def held_app(scope: Any, receive: Any, send: Any) -> None:
    """Every request waits until a request to /release arrives, then answers 200: a handshake, so a
    test holds requests in flight exactly as long as it needs (/release answers at once)."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    if scope["path"] == "/release":
        _RELEASE.set()
        await _respond(send, 200, b"released")
        return
    await _RELEASE.wait()
    await _respond(send, 200, b"held")


_LIFESPANS: list[int] = []  # state_app's lifespan startups in this process


async def state_app(scope: Any, receive: Any, send: Any) -> None:
    """Its lifespan puts a ``pool`` (a list) in the lifespan state. Each request and websocket appends to the pool
    and answers JSON with what its scope carries: the state's keys, the pool's length, whether the mark an earlier
    request left in its ``state`` or ``extensions`` is there, and the state the runner's status extension reports;
    then it leaves those marks (ASGI: each scope has its own shallow copy of the state). ``lifespans``: how many
    times its lifespan started (the server's own lifespan scope must not reach it)."""
    import json

    if scope["type"] == "lifespan":
        await receive()
        _LIFESPANS.append(1)
        scope["state"]["pool"] = []
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    state, extensions = scope["state"], scope["extensions"]
    state["pool"].append(scope["type"])
    seen = {"keys": sorted(state), "pool": len(state["pool"]), "state_mark": "mark" in state,
            "extension_mark": "mark" in extensions, "status": extensions["resync_fsm.status"]()["state"],
            "lifespans": len(_LIFESPANS)}
    state["mark"] = extensions["mark"] = True
    body = json.dumps(seen)
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": body})
        await send({"type": "websocket.close", "code": 1000})
        return
    await _respond(send, 200, body.encode())


async def failing_app(scope: Any, receive: Any, send: Any) -> None:
    """Every request raises an error that has nothing to do with the loop."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    raise RuntimeError("the database is gone")


async def early_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers before reading the request's body (issue 23): ``/raise`` raises (the server answers 500),
    ``/read`` reads the whole body and answers its length, ``/hold`` returns when its client goes away
    (a request held in flight, to fill ``server.limit_concurrency``)."""
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    if scope["path"] == "/read":
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await _respond(send, 200, str(size).encode())
        return
    if scope["path"] == "/hold":
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    raise RuntimeError("fails before reading the body")
