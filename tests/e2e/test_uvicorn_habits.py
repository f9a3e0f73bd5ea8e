"""Issue 22: `python -m resync_fsm main:app --host ... --port ...` as with Uvicorn: --env-file reaches the app's
os.environ, and the app's stdlib logging behaves as under Uvicorn (the root logger's level untouched)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from .cli import running

APP = '''
import logging
import os

from fastapi import FastAPI

# Under Uvicorn the root logger stays at WARNING: this call is a no-op. Were the runner to lower the
# root logger's level, it would raise TypeError (keyword arguments to a stdlib logger) and the import fail.
logging.getLogger("main").info("imported", version=1)
AT_IMPORT = os.environ.get("DATABASE_URL")
app = FastAPI()


@app.get("/env")
async def env() -> dict:
    logging.getLogger("httpx").info("HTTP Request: GET /env")  # below the root logger's level: not shown
    return {"at_import": AT_IMPORT, "now": os.environ.get("DATABASE_URL"), "real": os.environ.get("REAL_ONE"),
            "root_level": logging.getLogger().level}
'''


@pytest.mark.parametrize("engine", ["hypercorn", "uvicorn"])
async def test_a_fastapi_app_served_the_uvicorn_way(tmp_path: Path, engine: str) -> None:
    (tmp_path / "main.py").write_text(APP)
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://app:dotenv-pw@db/app\nREAL_ONE=from-dotenv\n")
    async with running("main:app", "--host", "127.0.0.1", "--port", "0", "--env-file", ".env", cwd=str(tmp_path),
                       RESYNC_FSM_SERVER_ENGINE=engine, REAL_ONE="from-the-environment") as cli:
        base = await cli.url()
        async with httpx.AsyncClient() as client:
            body = (await client.get(base + "/env")).json()
        cli.signal(signal.SIGTERM)
    assert await cli.wait() == 0, cli.stderr
    assert body == {"at_import": "postgresql://app:dotenv-pw@db/app", "now": "postgresql://app:dotenv-pw@db/app",
                    "real": "from-the-environment", "root_level": 30}
    log = "\n".join(cli.stdout_lines)
    assert "dotenv-pw" not in log and "from-dotenv" not in log and "HTTP Request" not in log
    assert base.startswith("http://127.0.0.1:")
