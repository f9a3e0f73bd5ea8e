"""The real CLI on loopback, port 0, real signals (issue 2's "done when" 1-3)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from ..servers import free_port
from .cli import running


async def test_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with running("--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            ready = await client.get(url + "/readyz")
            live = await client.get(url + "/livez")
            status = (await client.get(url + "/status")).json()
            home = await client.get(url + "/")
        assert (ready.status_code, ready.json()) == (200, {"ready": True, "state": "serving"})
        assert live.status_code == 200
        assert status["state"] == "serving" and status["probes"] == []
        assert home.status_code == 200 and b"resync_fsm" in home.content
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert cli.transitions() == ["validating", "probing", "serving", "draining", "stopped"]
    assert cli.stderr == b""


async def test_closed_port_exits_69_within_the_deadline(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    config = tmp_path / "resync_fsm.toml"
    config.write_text(
        "[startup]\ntimeout = 2\n\n[[probes]]\nname = \"db\"\nkind = \"tcp\"\n"
        f"host = \"127.0.0.1\"\nport = {port}\n"
    )
    started = time.monotonic()
    async with running("--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        assert await cli.wait() == 69
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed  # about the 2 s deadline plus the interpreter's start
    lines = cli.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("DependencyUnavailableError: ")
    assert "db" in lines[0] and "refused" in lines[0]
    assert "Traceback" not in cli.stderr.decode() + "\n".join(cli.stdout_lines)
    event = await cli.wait_event("dependency_unavailable")
    assert event["dependency"] == "db" and event["error_type"] == "DependencyUnavailableError"


async def test_invalid_config_exits_78_naming_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[server]\nbind = ["127.0.0.1:70000"]\ngraceful_timeout = -1\n\n'
        '[[probes]]\nname = "db"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 99999\n'
    )
    async with running("--config", str(config)) as cli:
        assert await cli.wait() == 78
    lines = cli.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("ConfigurationValidationError: 3 configuration problems")
    for needle in ("server.bind", "70000", "server.graceful_timeout", "probes[0].port", "99999"):
        assert needle in line
    assert "Traceback" not in cli.stderr.decode() + "\n".join(cli.stdout_lines)


async def test_status_page_and_mermaid_show_the_current_state(tmp_path: Path) -> None:
    async with running("--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        url = await cli.url()
        async with httpx.AsyncClient() as client:
            page = (await client.get(url + "/")).text
            mermaid = await client.get(url + "/status?format=mermaid")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0
    assert '<span class="state">serving</span>' in page
    assert page.count('fill="#ffd54f"') == 1  # exactly one node highlighted: serving
    node = page[page.index("<title>serving</title>"):]
    assert node.index('fill="#ffd54f"') < node.index("</g>")
    assert "http-equiv=\"refresh\"" in page and "http://" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org", "")  # nothing loaded from the network
    assert "<td>probes_passed</td>" in page
    assert mermaid.headers["content-type"].startswith("text/plain")
    assert mermaid.text.endswith("    class serving active\n")


async def test_traceback_only_at_debug(tmp_path: Path) -> None:
    for level, shown in (("info", False), ("debug", True)):
        async with running("--app", "no_such_module:app", "--log-level", level, cwd=str(tmp_path)) as cli:
            assert await cli.wait() == 70
        event = await cli.wait_event("startup_error")
        assert ("Traceback (most recent call last)" in event.get("exception", "")) is shown
        assert "Traceback" not in cli.stderr.decode()  # stderr keeps its one line either way


async def test_a_usage_error_exits_2_with_one_line_and_no_log(tmp_path: Path) -> None:
    async with running("--bogus", cwd=str(tmp_path)) as cli:
        assert await cli.wait() == 2
    assert cli.stderr == b"resync-fsm: error: unrecognized arguments: --bogus\n"
    assert cli.stdout_lines == []  # refused before logging starts: no lifecycle ran
