"""Draining and stopping with the real CLI: second signal, cancelled startup, lifespan and bind
failures, several binds, a Unix socket, a factory, and the systemd notify messages."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
import trio

from ..servers import silent_endpoints
from .cli import running, until_in_flight

ROOT = str(Path(__file__).resolve().parents[2])


async def test_second_signal_forces_the_stop(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:slow_app", "--bind", "127.0.0.1:0", "--drain-delay", "30",
                       cwd=ROOT, **server_env) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        await cli.wait_event("draining")
        started = time.monotonic()
        cli.signal(signal.SIGINT)
        assert await cli.wait() == 128 + signal.SIGINT
        assert time.monotonic() - started < 5
    assert cli.transitions()[-2:] == ["draining", "stopped"]


async def test_signal_during_probing_cancels_a_stuck_attempt(tmp_path: Path, server_env: dict[str, str]) -> None:
    with silent_endpoints(1) as (port,):
        config = tmp_path / "c.toml"
        config.write_text(f"[[probes]]\nname = \"slow\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\n"
                          "timeout = 3\n")
        async with running("--config", str(config), cwd=str(tmp_path), **server_env) as cli:
            await cli.wait_event("state_transition", to="probing")
            started = time.monotonic()
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
            assert time.monotonic() - started < 1.5  # not the 3 s attempt
    assert cli.transitions() == ["validating", "probing", "draining", "stopped"]


@pytest.mark.parametrize(("app", "needle"), [
    ("startup_failed_app", "database migrations are missing"),
    ("startup_raises_app", "cannot load the model weights"),
])
async def test_lifespan_startup_failure_is_exit_70(app: str, needle: str, server_env: dict[str, str]) -> None:
    async with running("--app", f"tests.e2e.apps:{app}", "--bind", "127.0.0.1:0",
                       cwd=ROOT, **server_env) as cli:
        assert await cli.wait() == 70
    lines = cli.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("LifespanError: ") and needle in lines[0]
    assert "Traceback" not in "\n".join(cli.stdout_lines)


async def test_an_app_without_lifespan_still_serves(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:no_lifespan_app", "--bind", "127.0.0.1:0",
                       cwd=ROOT, **server_env) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/x")).text == "plain"
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0


async def test_bind_failure_is_exit_70_naming_the_address(server_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        async with running("--bind", address,
                       cwd=ROOT, **server_env) as cli:
            assert await cli.wait() == 70
    line = cli.stderr.decode().strip()
    assert line.startswith("StartupError: cannot bind ") and address in line and "in use" in line


async def test_unknown_app_is_exit_70(server_env: dict[str, str]) -> None:
    async with running("--app", "no_such_module:app", "--bind", "127.0.0.1:0",
                       cwd=ROOT, **server_env) as cli:
        assert await cli.wait() == 70
    assert "no_such_module" in cli.stderr.decode()


async def test_several_binds_a_unix_socket_and_a_factory(tmp_path: Path, server_env: dict[str, str]) -> None:
    sock = tmp_path / "app.sock"
    async with running("--app", "tests.e2e.apps:make_app", "--factory", "--bind", "127.0.0.1:0",
                       "--bind", f"unix:{sock}",
                       cwd=ROOT, **server_env) as cli:
        event = await cli.wait_event("listening")
        assert len(event["binds"]) == 2
        async with httpx.AsyncClient() as client:
            assert (await client.get(event["binds"][0] + "/")).text == "hello"
        async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(sock))) as client:
            assert (await client.get("http://local/readyz")).status_code == 200
            assert (await client.get("http://local/")).text == "hello"
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert not sock.exists()  # the socket file it created is removed on the way out (as Uvicorn, Gunicorn)


async def test_systemd_notify_messages(tmp_path: Path, server_env: dict[str, str]) -> None:
    path = tmp_path / "notify.sock"
    receiver = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await receiver.bind(str(path))
    messages: list[str] = []
    changed = trio.Event()

    async def collect() -> None:
        nonlocal changed
        while True:
            messages.append((await receiver.recv(4096)).decode())
            changed.set()
            changed = trio.Event()

    async def until(*wanted: str) -> None:
        with trio.fail_after(10):
            while not all(w in messages for w in wanted):
                await changed.wait()

    with receiver:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect)
            async with running("--bind", "127.0.0.1:0", cwd=ROOT, NOTIFY_SOCKET=str(path),
                               WATCHDOG_USEC="200000", **server_env) as cli:
                await cli.url()
                await until("READY=1\nSTATUS=serving", "WATCHDOG=1")
                cli.signal(signal.SIGTERM)
                assert await cli.wait() == 0
            await until("STATUS=stopped")
            nursery.cancel_scope.cancel()
    states = [m for m in messages if m != "WATCHDOG=1"]
    assert states == ["STATUS=validating", "STATUS=probing", "STATUS=serving", "READY=1\nSTATUS=serving",
                      "STOPPING=1\nSTATUS=draining", "STATUS=stopped"]


async def test_status_while_draining_counts_requests_in_flight(server_env: dict[str, str]) -> None:
    async with running("--app", "tests.e2e.apps:held_app", "--bind", "127.0.0.1:0", "--drain-delay", "0.5",
                       "--management-bind", "127.0.0.1:0", cwd=ROOT, **server_env) as cli:
        url, management = await cli.url(), await cli.management_url()
        async with httpx.AsyncClient(timeout=10) as client, trio.open_nursery() as nursery:
            answers: list[int] = []

            async def held_request() -> None:
                answers.append((await client.get(url + "/work")).status_code)

            for _ in range(3):
                nursery.start_soon(held_request)
            # until the three are in flight (held until /release): another process, so we ask it
            await until_in_flight(client, management, 3)
            cli.signal(signal.SIGTERM)
            await cli.wait_event("draining")
            status = (await client.get(management + "/status")).json()
            ready = await client.get(url + "/readyz")
            assert answers == []  # still held: what /status counted was really in flight
            released = await client.get(url + "/release")  # within the drain delay: still listening
        assert await cli.wait() == 0
    assert released.status_code == 200
    assert answers == [200, 200, 200]
    assert status["state"] == "draining" and status["in_flight"] == 3 and status["ready"] is False
    assert [m["dest"] for m in status["history"]] == ["validating", "probing", "serving", "draining"]
    assert all(isinstance(m["at"], float) for m in status["history"])
    assert ready.status_code == 503 and ready.json() == {"ready": False, "state": "draining"}
