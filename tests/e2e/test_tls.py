"""Issue 14: serving over TLS with a certificate made in the test; HTTP/2 and HTTP/1.1 by ALPN."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from ..certs import make_certs
from .cli import LIMIT, env, running


async def test_tls_serves_the_chain_over_http2_and_http11(tmp_path: Path, loop: str) -> None:
    certs = make_certs(tmp_path)
    async with running("--app", "tests.e2e.apps:echo_app", "--bind", "127.0.0.1:0",
                       "--certfile", str(certs.cert), "--keyfile", str(certs.key),
                       RESYNC_FSM_SERVER_LOOP=loop) as cli:
        url = await cli.url()
        assert url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(certs.ca))  # verifies the chain up to our CA
        async with httpx.AsyncClient(verify=context, http2=True, timeout=LIMIT) as client:
            h2 = await client.get(url + "/x")
        async with httpx.AsyncClient(verify=context, http2=False, timeout=LIMIT) as client:
            h11 = await client.get(url + "/x")
        assert (h2.status_code, h2.http_version) == (200, "HTTP/2")
        assert json.loads(h2.text)["scheme"] == "https" and json.loads(h2.text)["http_version"] == "2"
        assert (h11.status_code, h11.http_version) == (200, "HTTP/1.1")
        try:
            async with httpx.AsyncClient(timeout=LIMIT) as client:  # the system's CAs: not ours
                await client.get(url + "/x")
        except httpx.ConnectError as exc:
            causes = [exc]
            while causes[-1].__context__ is not None and len(causes) < 10:
                causes.append(causes[-1].__context__)  # type: ignore[arg-type]
            assert any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes), causes
        else:
            raise AssertionError("a certificate not signed by a trusted CA was accepted")
        cli.signal(signal.SIGTERM)
    assert cli.process.returncode == 0


def test_a_mismatched_key_is_a_78_naming_the_field(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "resync_fsm", "--bind", "127.0.0.1:0",
         "--certfile", str(certs.cert)],
        env=env(RESYNC_FSM_TLS_KEYFILE=str(certs.other_key)), capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 78, result.stderr
    assert "RESYNC_FSM_TLS_KEYFILE: does not match tls.certfile" in result.stderr
    assert not any(json.loads(line).get("event") == "listening" for line in result.stdout.splitlines()
                   if line.startswith("{"))


def test_an_unreadable_certificate_is_a_78_naming_the_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "resync_fsm", "--certfile", str(tmp_path / "missing.pem"),
         "--keyfile", str(tmp_path / "missing.key")],
        env=env(), capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 78, result.stderr
    assert "--certfile: expected the path of a readable file" in result.stderr
    assert "--keyfile: expected the path of a readable file" in result.stderr
