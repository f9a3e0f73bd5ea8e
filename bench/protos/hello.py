"""What the three prototypes share: a raw ASGI hello app whose ``/readyz`` follows ``readiness.ready``,
and Hypercorn's config for it on ``127.0.0.1:PORT`` (no access log)."""

from __future__ import annotations

from types import SimpleNamespace

from hypercorn.config import Config

readiness = SimpleNamespace(ready=False)  # set by each prototype's lifecycle


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    ready = readiness.ready
    status, body = (200 if ready else 503, b"ready") if scope["path"] == "/readyz" else (200, b"hello")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def config(port: int) -> Config:
    """Hypercorn's config for the hello app on loopback ``port``."""
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    return config
