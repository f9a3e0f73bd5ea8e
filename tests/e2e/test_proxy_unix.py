"""Issue 24, item 2: behind nginx on a unix socket (the usual nginx → unix socket layout), the proxy headers are
believed when the unix socket's peer is trusted: ``--forwarded-allow-ips '*'`` (every peer, as in Uvicorn) or
``unix:PATH`` (the peers of that socket), on both engines, for a ``unix:`` bind and for ``fd://`` of a unix
socket handed over; the app sees the real client and https. Not trusted (only addresses listed), the headers
are ignored."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .cli import LIMIT, running
from .test_proxy import nginx


@contextmanager
def short_dir() -> Iterator[Path]:
    """A directory whose unix socket paths fit ``sun_path`` (108 bytes), removed on exit."""
    path = Path(tempfile.mkdtemp(prefix="rf-", dir="/tmp"))
    path.chmod(0o755)  # nginx's workers (another user) reach the socket
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("engine", ["hypercorn", "uvicorn"])
@pytest.mark.parametrize(("bind", "trust"), [("unix", "*"), ("unix", "unix:{path}"), ("fd", "*"),
                                             ("fd", "unix:{path}"), ("unix", "127.0.0.1")])
async def test_behind_nginx_on_a_unix_socket_the_app_sees_the_real_client_and_scheme(
        tmp_path: Path, engine: str, bind: str, trust: str) -> None:
    with short_dir() as directory:
        path = str(directory / "app.sock")
        handed: list[socket.socket] = []
        if bind == "fd":
            listener = socket.socket(socket.AF_UNIX)
            listener.bind(path)
            os.chmod(path, 0o666)  # noqa: ASYNC240  (one syscall, before anything runs)
            listener.listen(64)
            handed.append(listener)
        spec = f"fd://{handed[0].fileno()}" if handed else f"unix:{path}"
        try:
            async with running("--app", "tests.e2e.apps:echo_app", "--bind", spec, "--engine", engine,
                               "--forwarded-allow-ips", trust.format(path=path), "--root-path", "/prefix",
                               pass_fds=[s.fileno() for s in handed], RESYNC_FSM_SERVER_UNIX_SOCKET_MODE="666") as cli:
                await cli.wait_event("listening")
                with nginx(tmp_path, 0, upstream=f"unix:{path}:") as proxy_port:
                    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
                    async with httpx.AsyncClient(transport=transport, timeout=LIMIT) as client:
                        through = await client.get(f"http://127.0.0.1:{proxy_port}/prefix/hello")
                cli.signal(signal.SIGTERM)
        finally:
            for sock in handed:
                sock.close()
    assert cli.process.returncode == 0
    seen = json.loads(through.text)
    if trust == "127.0.0.1":  # the unix socket's peer is not trusted: nothing is taken from the headers
        assert seen["client"] is None and seen["scheme"] == "http" and seen["host"] != "public.example:443"
    else:
        assert seen["client"] == ["127.0.0.2", 0]
        assert seen["scheme"] == "https"
        assert seen["host"] == "public.example:443"
