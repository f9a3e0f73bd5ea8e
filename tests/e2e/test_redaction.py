"""A distinct secret in every secret-bearing input; no output channel may show any of them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

from ..servers import FakeRedis, HttpRecorder, free_port, serving
from .cli import env, running

SECRETS = {
    "TWS_PASSWORD": "tws-Secret-7Hq2",
    "LLM_API_KEY": "sk-Secret-Llm-9ZZ",
    "ADMIN_PASSWORD": "Admin-Secret-Pw-4Kx",
    "SECRET_KEY": "Signing-Secret-Key-0123456789-abcdef",
    "redis": "Redis-Secret-8Lm",
    "llm-userinfo": "Llm-Userinfo-Secret-3Vb",
    "llm-query": "Query-Token-Secret-5Nd",
    "toml-probe": "Toml-Probe-Secret-6Qs",
}


def base_env(redis_port: int, http_port: int) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "ADMIN_USERNAME": "operator",
        "ADMIN_PASSWORD": SECRETS["ADMIN_PASSWORD"],
        "SECRET_KEY": SECRETS["SECRET_KEY"],
        "TWS_USER": "tws",
        "TWS_PASSWORD": SECRETS["TWS_PASSWORD"],
        "LLM_API_KEY": SECRETS["LLM_API_KEY"],
        "REDIS_URL": f"redis://default:{quote(SECRETS['redis'])}@127.0.0.1:{redis_port}/0",
        "LLM_ENDPOINT": (f"http://svc:{SECRETS['llm-userinfo']}@127.0.0.1:{http_port}/v1"
                         f"?api_key={SECRETS['llm-query']}"),
    }


def write_config(tmp_path: Path, http_port: int) -> Path:
    path = tmp_path / "resync_fsm.toml"
    path.write_text(
        "[[probes]]\nname = \"api\"\nkind = \"http\"\ncritical = false\n"
        f"url = \"http://u:{SECRETS['toml-probe']}@127.0.0.1:{http_port}/\"\n"
    )
    return path


def assert_clean(*outputs: str | bytes, also: dict[str, str] | None = None) -> None:
    for output in outputs:
        text = output.decode() if isinstance(output, bytes) else output
        for name, secret in {**SECRETS, **(also or {})}.items():
            assert secret not in text, f"{name} leaked: {text[:2000]}"
            assert quote(secret) not in text, f"{name} leaked (quoted)"


def config_dump(tmp_path: Path, environ: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "resync_fsm", "config"], capture_output=True, text=True,
                          env=env(**environ), cwd=tmp_path, timeout=30, check=False)
    return done.stdout + done.stderr


async def test_a_serving_run_shows_no_secret(tmp_path: Path) -> None:
    redis = FakeRedis(password=SECRETS["redis"])
    async with serving(redis) as redis_port, serving(HttpRecorder({"GET": 200})) as http_port:
        environ = base_env(redis_port, http_port)
        write_config(tmp_path, http_port)
        async with running("--bind", "127.0.0.1:0", cwd=str(tmp_path), **environ) as cli:
            url = await cli.url()
            async with httpx.AsyncClient() as client:
                status = (await client.get(url + "/status")).text
                ready = await client.get(url + "/readyz")
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
        dump = config_dump(tmp_path, environ)
    assert ready.status_code == 200
    assert ["AUTH", "default", SECRETS["redis"]] in redis.commands  # the secret was really used
    assert '"redis"' in status and "***" in status
    assert "***" in dump and "[resync]" in dump
    assert_clean(status, dump, cli.stderr, "\n".join(cli.stdout_lines))


async def test_a_failing_run_shows_no_secret(tmp_path: Path) -> None:
    closed = free_port()  # nobody listens there
    # a wrong scheme for REDIS_URL and a too-short admin password: both fail validation
    environ = base_env(closed, closed)
    environ["REDIS_URL"] = environ["REDIS_URL"].replace("redis://", "http://")
    short = {"short ADMIN_PASSWORD": "Sh0rt-Pw"}
    environ["ADMIN_PASSWORD"] = short["short ADMIN_PASSWORD"]
    write_config(tmp_path, closed)
    async with running(cwd=str(tmp_path), **environ) as cli:
        assert await cli.wait() == 78
    assert "REDIS_URL" in cli.stderr.decode() and "ADMIN_PASSWORD" in cli.stderr.decode()
    dump = config_dump(tmp_path, environ)
    assert_clean(dump, cli.stderr, "\n".join(cli.stdout_lines), also=short)


async def test_a_run_failing_on_a_dependency_shows_no_secret(tmp_path: Path) -> None:
    closed = free_port()  # nobody listens there
    environ = base_env(closed, closed)
    write_config(tmp_path, closed)
    async with running("--startup-timeout", "0.5", cwd=str(tmp_path), **environ) as cli:
        assert await cli.wait() == 69
    assert "redis" in cli.stderr.decode()
    assert_clean(cli.stderr, "\n".join(cli.stdout_lines))
