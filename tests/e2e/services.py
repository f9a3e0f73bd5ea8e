"""Real redis-server and PostgreSQL from the distribution's packages, started on loopback per test.

A test that needs one skips, with the reason, only when the binary is absent;
.ci/run installs both.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..servers import free_port

POSTGRES_BIN = Path("/usr/lib/postgresql")


def wait_listening(port: int, process: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    """Poll until the server accepts connections (bounded; fails if it exits)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port} after {limit} s")


@contextmanager
def stopping(process: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """(port, password) of a real redis-server with requirepass."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port, password = free_port(), "real-Redis-pw-42"
    process = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password, "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with stopping(process):
        wait_listening(port, process)
        yield port, password


def _pg_bin(name: str) -> str | None:
    versions = sorted(POSTGRES_BIN.glob("*/bin/" + name)) if POSTGRES_BIN.is_dir() else []
    found = shutil.which(name)
    return str(versions[-1]) if versions else found


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[int]:
    """The port of a real PostgreSQL with password authentication."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if initdb is None or postgres is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL refuses to run as root.
    with tempfile.TemporaryDirectory(prefix="resync-fsm-pg-") as tmp:
        yield from _postgres(Path(tmp), initdb, postgres)


def _postgres(tmp_path: Path, initdb: str, postgres: str) -> Iterator[int]:
    data = tmp_path / "pgdata"
    data.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chmod(tmp_path, 0o755)
        os.chown(data, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    pwfile = tmp_path / "pw"
    pwfile.write_text("real-Pg-pw-42\n")
    os.chmod(pwfile, 0o644)
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "scram-sha-256",
                    f"--pwfile={pwfile}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)
    port = free_port()
    process = subprocess.Popen(
        [*prefix, postgres, "-D", str(data), "-p", str(port), "-k", str(data),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with stopping(process):
        wait_listening(port, process)
        _wait_accepting(port)
        yield port


def _wait_accepting(port: int, limit: float = 30.0) -> None:
    """A listening PostgreSQL may still be "starting up": wait until pg_isready says it accepts."""
    isready = _pg_bin("pg_isready")
    if isready is None:
        return
    deadline = time.monotonic() + limit
    while subprocess.run([isready, "-q", "-h", "127.0.0.1", "-p", str(port)], check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL on {port} not accepting connections after {limit} s")
        time.sleep(0.05)
