"""A distinct secret in every secret-bearing input; no output channel may show any of them."""

from __future__ import annotations

import html
import json
import random
import signal
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

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


# Done-when 2 of issue 13: passwords drawn from the whole printable range (every reserved character of
# RFC 3986, spaces, quotes, backslash), each run serving (both listeners) and failing, every output scanned.
RESERVED = ":/?#[]@!$&'()*+,;=%"
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
INPUTS = ("redis", "llm-userinfo", "llm-query", "toml-probe", "TWS_PASSWORD", "ADMIN_PASSWORD", "SECRET_KEY")


def drawn_secrets(seed: int) -> dict[str, str]:
    """One password per secret-bearing input: 40 characters, every reserved one, space, quotes and a
    backslash among them, the rest drawn from the printable range; alphanumeric at both ends (so no
    parser's stripping changes it)."""
    rng = random.Random(seed)
    out = {}
    for name in INPUTS:
        middle = [*RESERVED, " ", '"', "\\", *rng.choices(PRINTABLE, k=40 - len(RESERVED) - 5)]
        rng.shuffle(middle)
        out[name] = rng.choice(string.ascii_letters) + "".join(middle) + rng.choice(string.digits)
    return out


def leaked_forms(secret: str) -> dict[str, str]:
    """How an output could carry ``secret``: raw, JSON- and HTML-escaped, percent-encoded."""
    return {"raw": secret, "json": json.dumps(secret)[1:-1], "html": html.escape(secret),
            "quoted": quote(secret), "quoted-all": quote(secret, safe=""), "form": quote_plus(secret)}


def assert_none_of(secrets: dict[str, str], outputs: dict[str, str | bytes]) -> None:
    for where, output in outputs.items():
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
        for name, secret in secrets.items():
            for form, shown in leaked_forms(secret).items():
                assert shown not in text, f"{name} ({form}) leaked in {where}"


def drawn_env(secrets: dict[str, str], redis_port: int, http_port: int, *, encoded: bool) -> dict[str, str]:
    """The Resync environment with ``secrets``; URLs carry theirs percent-encoded, or raw (which may make
    the URL invalid or name another host: whatever it parses to, nothing may echo the secret)."""
    enc = (lambda s: quote(s, safe="")) if encoded else (lambda s: s)
    return {
        "ENVIRONMENT": "production", "ADMIN_USERNAME": "operator", "TWS_USER": "tws",
        "ADMIN_PASSWORD": secrets["ADMIN_PASSWORD"], "SECRET_KEY": secrets["SECRET_KEY"],
        "TWS_PASSWORD": secrets["TWS_PASSWORD"], "LLM_API_KEY": "sk-not-drawn",
        "REDIS_URL": f"redis://default:{enc(secrets['redis'])}@127.0.0.1:{redis_port}/0",
        "LLM_ENDPOINT": (f"http://svc:{enc(secrets['llm-userinfo'])}@127.0.0.1:{http_port}/v1"
                         f"?api_key={enc(secrets['llm-query'])}"),
    }


def write_drawn_config(tmp_path: Path, secret: str, http_port: int, *, encoded: bool) -> None:
    password = quote(secret, safe="") if encoded else secret
    url = json.dumps(f"http://u:{password}@127.0.0.1:{http_port}/")  # a TOML basic string: JSON's escapes
    (tmp_path / "resync_fsm.toml").write_text(
        f'[[probes]]\nname = "api"\nkind = "http"\ncritical = false\nurl = {url}\n')


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_printable_passwords_leak_nowhere_serving_or_failing(tmp_path: Path, seed: int) -> None:
    secrets = drawn_secrets(seed)
    redis = FakeRedis(password=secrets["redis"])
    async with serving(redis) as redis_port, serving(HttpRecorder({"GET": 200})) as http_port:
        environ = drawn_env(secrets, redis_port, http_port, encoded=True)
        write_drawn_config(tmp_path, secrets["toml-probe"], http_port, encoded=True)
        async with running("--bind", "127.0.0.1:0", "--management-bind", "127.0.0.1:0", "--expose-status", "true",
                           cwd=str(tmp_path), **environ) as cli:
            url, management = await cli.url(), await cli.management_url()
            async with httpx.AsyncClient(timeout=10) as client:
                seen = {f"{base} {path}": (await client.get(base + path)).text
                        for base in (url, management) for path in ("/status", "/", "/status?format=mermaid")}
                seen["/metrics"] = (await client.get(management + "/metrics")).text
            cli.signal(signal.SIGTERM)
            assert await cli.wait() == 0
        seen["config"] = config_dump(tmp_path, environ)
    assert ["AUTH", "default", secrets["redis"]] in redis.commands  # the drawn password was really used
    assert "***" in seen[f"{url} /status"] and "<svg" in seen[f"{management} /"]
    assert_none_of(secrets, {**seen, "stderr": cli.stderr, "stdout": "\n".join(cli.stdout_lines)})

    closed = free_port()  # the failing run: raw passwords in every URL, nobody listening
    environ = drawn_env(secrets, closed, closed, encoded=False)
    write_drawn_config(tmp_path, secrets["toml-probe"], closed, encoded=False)
    async with running("--startup-timeout", "0.5", cwd=str(tmp_path), **environ) as failing:
        assert await failing.wait() in (69, 78)
    assert_none_of(secrets, {"stderr": failing.stderr, "stdout": "\n".join(failing.stdout_lines),
                             "config": config_dump(tmp_path, environ)})
