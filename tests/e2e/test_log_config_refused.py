"""A --log-config file the stdlib refuses to apply is a 78 on one line (issue 22, found by a new user)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("name, text", [
    ("log.json", '{"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}'),
    ("log.ini", "[loggers]\nkeys=root\n"),  # fileConfig: no [formatters] or [handlers]
], ids=["dictconfig", "fileconfig"])
async def test_a_log_config_the_stdlib_refuses_is_a_78_on_one_line(tmp_path: Path, name: str, text: str) -> None:
    # today: exit 1 and a full traceback (ValueError: Unable to configure handler 'h' / KeyError: 'formatters')
    (tmp_path / name).write_text(text)
    async with running("--bind", "127.0.0.1:0", "--log-config", str(tmp_path / name), cwd=str(tmp_path)) as cli:
        assert await cli.wait() == 78
    err = cli.stderr.decode()
    assert "Traceback" not in err and err.startswith("ConfigurationValidationError: ") and "--log-config" in err, err
    assert len(err.strip().splitlines()) == 1, err


