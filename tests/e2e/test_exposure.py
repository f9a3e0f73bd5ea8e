"""What each listener serves (issue 13, docs/operations.md "Exposure"), on every engine and loop, and a
unix socket a live instance serves is a bind error, not a takeover."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from .cli import running
from .test_drain import ROOT


def unix_client(path: Path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(path)), timeout=10)


async def test_the_management_listener_carries_status_and_the_public_one_does_not(
        tmp_path: Path, server_env: dict[str, str]) -> None:
    sock = tmp_path / "management.sock"
    async with running("--app", "tests.e2e.apps:echo_app", "--bind", "127.0.0.1:0",
                       "--management-bind", "127.0.0.1:0", "--management-bind", f"unix:{sock}",
                       cwd=ROOT, **server_env) as cli:
        url, management = await cli.url(), await cli.management_url()
        listening = await cli.wait_event("listening")
        async with httpx.AsyncClient(timeout=10) as client:
            public = {path: await client.get(url + path) for path in ("/livez", "/readyz", "/status", "/metrics")}
            status = (await client.get(management + "/status")).json()
            page = await client.get(management + "/")
            metrics = await client.get(management + "/metrics")
            ready = await client.get(management + "/readyz")
            elsewhere = await client.get(management + "/hello")
        async with unix_client(sock) as client:
            over_unix = (await client.get("http://local/status")).json()
            unix_elsewhere = await client.get("http://local/hello")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert listening["binds"] == [url]
    assert listening["management"] == [management, f"unix:{sock}"]
    assert public["/livez"].json()["live"] is True and public["/readyz"].json()["ready"] is True
    # the public listener passes /status and /metrics to the app: the echo app answers them
    assert public["/status"].json()["path"] == "/status" and public["/metrics"].json()["path"] == "/metrics"
    assert status["state"] == "serving" and status["binds"] == [url]
    assert status["management"] == [management, f"unix:{sock}"]
    assert page.status_code == 200 and b"<svg" in page.content and management.encode() in page.content
    assert metrics.status_code == 200 and b"resync_fsm_state" in metrics.content
    assert ready.status_code == 200
    assert over_unix["state"] == "serving"
    # nothing on the management listener reaches the app
    assert elsewhere.status_code == 404 and unix_elsewhere.status_code == 404
    assert b"path" not in elsewhere.content


@pytest.mark.parametrize(("args", "shown"), [
    ((), True),  # the built-in app is the status page (README's quick start)
    (("--expose-status", "false"), False),
    (("--management-bind", "127.0.0.1:0"), False),  # with a management listener, there only
])
async def test_the_built_in_app_shows_its_page_publicly_only_by_default(args: tuple[str, ...], shown: bool) -> None:
    async with running("--bind", "127.0.0.1:0", *args, cwd=ROOT) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=10) as client:
            page, status = await client.get(url + "/"), await client.get(url + "/status")
            ready = await client.get(url + "/readyz")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert ready.status_code == 200
    assert (page.status_code, status.status_code) == ((200, 200) if shown else (404, 404))
    assert (b"<svg" in page.content) is shown and (b"history" in status.content) is shown


async def test_an_app_keeps_status_off_the_public_listener_unless_asked() -> None:
    async with running("--app", "tests.e2e.apps:echo_app", "--bind", "127.0.0.1:0", cwd=ROOT) as hidden, \
            running("--app", "tests.e2e.apps:echo_app", "--bind", "127.0.0.1:0", "--expose-status", "true",
                    cwd=ROOT) as shown:
        async with httpx.AsyncClient(timeout=10) as client:
            by_default = (await client.get(await hidden.url() + "/status")).json()
            asked = (await client.get(await shown.url() + "/status")).json()
        for cli in (hidden, shown):
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
    assert by_default == {**by_default, "path": "/status"}  # the app's own answer
    assert asked["state"] == "serving" and asked["management"] == []


@pytest.mark.parametrize("flag", ["--bind", "--management-bind"])
async def test_a_unix_socket_a_live_instance_serves_is_in_use(tmp_path: Path, flag: str) -> None:
    sock = tmp_path / "app.sock"
    async with running("--bind", f"unix:{sock}", cwd=ROOT) as first:
        await first.wait_event("listening")
        second_args = ("--bind", f"unix:{sock}") if flag == "--bind" else (
            "--bind", "127.0.0.1:0", "--management-bind", f"unix:{sock}")
        async with running(*second_args, cwd=ROOT) as second:
            assert await second.wait() == 70
        async with unix_client(sock) as client:
            still = await client.get("http://local/readyz")
        first.signal(signal.SIGTERM)
        assert await first.wait() == 0
    error = second.stderr.decode()
    assert f"cannot bind unix:{sock}: a live server answers on this socket" in error
    assert flag in error
    assert still.status_code == 200 and still.json()["ready"] is True
    assert second.transitions()[-1] == "failed"
    assert not [e for e in second.events if e.get("event") == "listening"]
