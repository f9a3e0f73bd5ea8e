"""Edges a fresh user's review found, end to end: a repeated signal while the process exits, a stop
while a config file blocks, an encrypted TLS key, an app that calls sys.exit() while imported, and
`config` writing into a closed pipe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from ..certs import make_certs
from .cli import env, running

ROOT = str(Path(__file__).resolve().parents[2])


async def test_a_signal_repeated_while_the_process_exits_keeps_its_exit_code() -> None:
    async with running("--bind", "127.0.0.1:0", cwd=ROOT) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        await cli.wait_event("stopped")  # the lifecycle has ended; the interpreter is finalizing
        for _ in range(20):
            if cli.process.returncode is not None:
                break
            cli.signal(signal.SIGTERM)
            cli.signal(signal.SIGHUP)
            await trio.sleep(0.002)
        assert await cli.wait() == 0
    assert cli.stderr == b""


async def test_a_stop_while_the_config_file_blocks_stops(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)  # no writer: reading it blocks
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "resync_fsm", "--config", str(fifo), "--bind", "127.0.0.1:0"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env())
    try:
        with trio.fail_after(20):  # until it is blocked in the open(): its wait channel says so
            while True:
                where = Path(f"/proc/{process.pid}/wchan").read_text()  # noqa: ASYNC240 - a /proc read
                if any(word in where for word in ("fifo", "pipe", "partner")):
                    break
                await trio.sleep(0.01)  # another process: nothing to wait on
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await process.wait() == 128 + signal.SIGTERM
        assert process.stderr is not None
        err = (await process.stderr.receive_some(65536) or b"").decode()
    finally:
        if process.returncode is None:
            process.kill()
    assert err.splitlines() == ["Interrupted: SIGTERM while reading the configuration; nothing was started (exit 143)"]


async def test_an_encrypted_tls_key_is_one_line_and_78_without_a_prompt(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    encrypted = tmp_path / "encrypted.key"
    await trio.run_process(["openssl", "pkey", "-in", str(certs.key), "-aes256", "-passout", "pass:secret-pass-1",
                            "-out", str(encrypted)], capture_stdout=True, capture_stderr=True)
    async with running("check", "--certfile", str(certs.cert), "--keyfile", str(encrypted), cwd=ROOT) as cli:
        assert await cli.wait() == 78
    lines = cli.stderr.decode().splitlines()
    assert len(lines) == 1 and "--keyfile: is encrypted" in lines[0], lines


async def test_an_app_calling_sys_exit_while_imported_is_70_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "exiting_app.py").write_text('import sys\nsys.exit("DATABASE_URL is not set")\n')
    async with running("--app", "exiting_app:app", "--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        assert await cli.wait() == 70
    lines = cli.stderr.decode().splitlines()
    assert len(lines) == 1 and "exiting_app" in lines[0] and "DATABASE_URL is not set" in lines[0], lines


def test_config_into_a_closed_pipe_has_no_traceback() -> None:
    read, write = os.pipe()
    os.close(read)  # `config | head -0`: the reader is gone before the first line
    done = subprocess.run([sys.executable, "-m", "resync_fsm", "config"], stdout=write, stderr=subprocess.PIPE,
                          cwd=ROOT, env=env(), timeout=30, check=False)
    os.close(write)
    assert done.returncode == 0 and done.stderr == b"", done.stderr[-500:]
