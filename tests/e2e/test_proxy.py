"""Issue 14: behind a real nginx as reverse proxy, the app sees the real client, scheme and root path;
a peer that is not a trusted proxy cannot forge X-Forwarded-For."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ..servers import free_port
from .cli import LIMIT, running

NGINX_CONF = """
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /prefix/ {{
            proxy_pass http://{upstream}/;
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host public.example:443;
        }}
    }}
}}
"""


@contextmanager
def nginx(tmp_path: Path, app_port: int, upstream: str = "") -> Iterator[int]:
    """nginx on a free loopback port proxying /prefix/ to the app (``upstream``, nginx's spelling, e.g.
    ``unix:/run/app.sock:``; by default 127.0.0.1:app_port); stopped (SIGQUIT, then killed) on exit."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        pytest.fail("nginx is not installed (apt-get install nginx; .ci/run does)")
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=tmp_path, port=port, upstream=upstream or f"127.0.0.1:{app_port}"))
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + LIMIT
        while True:  # nginx has no readiness event: poll its port, bounded
            if process.poll() is not None:
                raise AssertionError(f"nginx exited: {(tmp_path / 'error.log').read_text()!r}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx did not listen in time") from None
                time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_behind_nginx_the_app_sees_the_real_client_scheme_and_root_path(tmp_path: Path) -> None:
    async with running("--app", "tests.e2e.apps:echo_app", "--bind", "127.0.0.1:0",
                       "--forwarded-allow-ips", "127.0.0.1", "--root-path", "/prefix") as cli:
        app_port = int((await cli.url()).rsplit(":", 1)[1])
        with nginx(tmp_path, app_port) as proxy_port:
            # the client connects from 127.0.0.2: the address the app must see, not nginx's 127.0.0.1
            transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
            async with httpx.AsyncClient(transport=transport, timeout=LIMIT) as client:
                through = await client.get(f"http://127.0.0.1:{proxy_port}/prefix/hello",
                                           headers={"X-Forwarded-For": "6.6.6.6"})
        seen = json.loads(through.text)
        # nginx appends its peer (127.0.0.2) to the client's forged 6.6.6.6: the right-most untrusted entry wins
        assert seen["client"] == ["127.0.0.2", 0]
        assert seen["scheme"] == "https"
        # nginx strips /prefix; the app's path includes its root path (ASGI, Uvicorn; web/root_path.py)
        assert seen["root_path"] == "/prefix" and seen["path"] == "/prefix/hello"
        assert seen["host"] == "public.example:443"

        # straight to the app from 127.0.0.2, not a trusted proxy: the forged headers are ignored
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=transport, timeout=LIMIT) as client:
            direct = await client.get(f"http://127.0.0.1:{app_port}/hello",
                                      headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https",
                                               "Forwarded": "for=6.6.6.6;proto=https"})
        seen = json.loads(direct.text)
        assert seen["client"][0] == "127.0.0.2" and seen["client"][1] != 0
        assert seen["scheme"] == "http"
        cli.signal(signal.SIGTERM)
    assert cli.process.returncode == 0
