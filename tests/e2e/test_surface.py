"""Issue 14 through the real CLI: the access log, --app-dir with the console script, lifespan modes, h2c."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import httpx
import trio

from .cli import LIMIT, env, running


async def test_access_log_lines_field_by_field() -> None:
    async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", "--access-log",
                       "--forwarded-allow-ips", "127.0.0.1") as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=LIMIT) as client:
            await client.get(url + "/livez")
            await client.get(url + "/orders?token=abc123&page=2",
                             headers={"X-Request-ID": "r-1", "X-Forwarded-For": "198.51.100.7"})
        event = await cli.wait_event("access")
        cli.signal(signal.SIGTERM)
    assert [e["path"] for e in cli.events if e.get("event") == "access"] == ["/orders?token=***&page=2"]
    assert event["method"] == "GET" and event["status"] == 200 and event["bytes"] == len(b"hello")
    assert event["client"] == "198.51.100.7:0" and event["request_id"] == "r-1"
    assert 0 <= event["duration_ms"] < LIMIT * 1000
    assert event["level"] == "info" and "timestamp" in event  # the service's own JSON logging


PLAIN_APP = (
    "async def app(scope, receive, send):\n"
    "    if scope['type'] == 'lifespan':\n        raise RuntimeError('no lifespan here')\n"
    "    await send({'type': 'http.response.start', 'status': 204, 'headers': []})\n"
    "    await send({'type': 'http.response.body', 'body': b''})\n"
)


async def test_console_script_imports_an_app_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "localapp.py").write_text(PLAIN_APP)
    script = str(Path(sys.executable).parent / "resync-fsm")  # the installed console script, not python -m
    async with running("--app", "localapp:app", "--bind", "127.0.0.1:0", command=[script], cwd=str(tmp_path)) as cli:
        url = await cli.url()
        async with httpx.AsyncClient(timeout=LIMIT) as client:
            assert (await client.get(url + "/")).status_code == 204  # lifespan auto: served without it
        cli.signal(signal.SIGTERM)
    assert cli.process.returncode == 0


async def test_app_dir_and_lifespan_on(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "plainapp.py").write_text(PLAIN_APP)
    script = str(Path(sys.executable).parent / "resync-fsm")
    base = [script, "--app", "plainapp:app", "--bind", "127.0.0.1:0"]
    on = await trio.run_process([*base, "--app-dir", str(apps), "--lifespan", "on"], cwd=tmp_path, env=env(),
                                capture_stdout=True, capture_stderr=True, check=False)
    assert on.returncode != 0 and b"no lifespan here" in on.stderr, on.stderr  # served with --lifespan auto above
    missing = await trio.run_process([*base, "--app-dir", str(tmp_path / "missing")], cwd=tmp_path, env=env(),
                                     capture_stdout=True, capture_stderr=True, check=False)
    assert missing.returncode == 78 and b"--app-dir: expected the path of an existing directory" in missing.stderr


def _upgrade(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=LIMIT) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                     b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        return sock.recv(200)


async def test_h2c_upgrade_follows_the_switch() -> None:
    for flags, expected in (((), b"HTTP/1.1 101 "), (("--no-h2c", "--no-server-header"), b"HTTP/1.1 200 ")):
        async with running("--app", "tests.e2e.apps:hello_app", "--bind", "127.0.0.1:0", "--graceful-timeout", "1",
                           "--engine", "hypercorn", *flags) as cli:  # h2c: Hypercorn only
            port = int((await cli.url()).rsplit(":", 1)[1])
            answer = _upgrade(port)
            assert answer.startswith(expected), answer
            assert (b"server: hypercorn" in answer.lower()) == (not flags)
            cli.signal(signal.SIGTERM)
