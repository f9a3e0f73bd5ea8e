"""`resync-fsm check`: exit 0/69/78, one line per probe, JSON, `-- CMD`, live lines on a TTY."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import trio

from ..servers import HttpRecorder, free_port, serving, silent_endpoints
from .cli import env


def config(tmp_path: Path, *probes: tuple[str, int, bool], timeout: float = 1.0) -> Path:
    text = f"[startup]\ntimeout = {timeout}\n"
    for name, port, critical in probes:
        text += (f"\n[[probes]]\nname = \"{name}\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\n"
                 f"critical = {'true' if critical else 'false'}\n")
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


async def check(*args: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(30):
        return await trio.run_process([sys.executable, "-m", "resync_fsm", "check", *args],
                                      capture_stdout=True, capture_stderr=True, check=False, env=env())


async def test_passes_and_runs_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    async with serving(HttpRecorder({})) as up:
        done = await check("--config", str(config(tmp_path, ("db", up, True), ("extra", free_port(), False))),
                           "--", sys.executable, "-c", f"open({str(marker)!r}, 'w').write('yes')")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith(f"db (tcp 127.0.0.1:{up}): ok in ")
    assert lines[1].startswith("extra (tcp ") and "refused" in lines[1]
    assert marker.read_text() == "yes"


async def test_fails_69_and_does_not_run_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = await check("--config", str(config(tmp_path, ("db", free_port(), True))),
                       "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert done.returncode == 69
    assert done.stderr.decode().startswith("DependencyUnavailableError: ") and b"refused" in done.stderr
    assert not marker.exists()


async def test_json(tmp_path: Path) -> None:
    done = await check("--json", "--config", str(config(tmp_path, ("db", free_port(), True))))
    result = json.loads(done.stdout)
    assert result["ok"] is False
    assert [(p["name"], p["status"], p["reason"]) for p in result["probes"]] == [("db", "fail", "refused")]


async def test_invalid_config_78(tmp_path: Path) -> None:
    done = await check("--config", str(config(tmp_path, ("db", 99999, True))))
    assert done.returncode == 78 and b"probes[0].port" in done.stderr


def test_live_progress_on_a_tty(tmp_path: Path) -> None:
    with silent_endpoints(1) as (silent,):
        _live(tmp_path, config(tmp_path, ("db", silent, False), timeout=0.6))


def _live(tmp_path: Path, path: Path) -> None:
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "resync_fsm", "check", "--config", str(path)],
                               stdout=child, stderr=child, env=env(), close_fds=True)
    os.close(child)
    output = b""
    while True:  # read until the child closes its end (bounded by the process's own deadline)
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=30) == 0
    text = output.decode()
    # the attempt runs for the whole 0.6 s while the display redraws every 0.1 s
    assert "\x1b[2K" in text and ": attempt 1" in text and "\x1b[1F" in text
    assert "FAILED  db (tcp 127.0.0.1:" in text and "failed: timeout" in text
