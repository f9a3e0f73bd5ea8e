"""redis and postgres probes against loopback servers speaking RESP and the PostgreSQL protocol."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
import trio

from resync_fsm.probes import ProbeFailure
from resync_fsm.probes.postgres import attempt_postgres, startup_packet
from resync_fsm.probes.redis import attempt_redis
from resync_fsm.probes.tcp import attempt_tcp
from resync_fsm.settings import ProbeSpec

from ..servers import FakePostgres, FakeRedis, HttpRecorder, serving


def redis(url: str) -> ProbeSpec:
    return ProbeSpec(name="redis", kind="redis", url=url)


def postgres(url: str) -> ProbeSpec:
    return ProbeSpec(name="pg", kind="postgres", url=url)


async def failure(attempt, spec: ProbeSpec) -> ProbeFailure:  # type: ignore[no-untyped-def]
    with pytest.raises(ProbeFailure) as caught:
        with trio.fail_after(5):
            await attempt(spec)
    return caught.value


async def test_redis_ping_without_password() -> None:
    server = FakeRedis()
    async with serving(server) as port:
        assert await attempt_redis(redis(f"redis://127.0.0.1:{port}")) == "PONG"
    assert server.commands == [["PING"]]


@pytest.mark.parametrize(("url", "sent"), [
    ("redis://:pw-1@127.0.0.1:{port}/3", [["AUTH", "pw-1"], ["SELECT", "3"], ["PING"]]),
    ("redis://default:pw-1@127.0.0.1:{port}", [["AUTH", "default", "pw-1"], ["PING"]]),
    ("redis://default:pw%2D1@127.0.0.1:{port}/0", [["AUTH", "default", "pw-1"], ["PING"]]),
])
async def test_redis_auth_and_database(url: str, sent: list[list[str]]) -> None:
    server = FakeRedis(password="pw-1")
    async with serving(server) as port:
        assert await attempt_redis(redis(url.format(port=port))) == "PONG"
    assert server.commands == sent


@pytest.mark.parametrize(("server", "url", "reason"), [
    (FakeRedis(password="right"), "redis://:wrong@127.0.0.1:{port}", "auth"),
    (FakeRedis(password="right"), "redis://127.0.0.1:{port}", "auth"),  # NOAUTH
    (FakeRedis(password=None), "redis://:extra@127.0.0.1:{port}", "auth"),
    (FakeRedis(mode="loading"), "redis://127.0.0.1:{port}", "loading"),
    (FakeRedis(mode="garbage"), "redis://127.0.0.1:{port}", "protocol"),
    (HttpRecorder({}), "redis://127.0.0.1:{port}", "protocol"),
])
async def test_redis_failures(server, url: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    async with serving(server) as port:
        error = await failure(attempt_redis, redis(url.format(port=port)))
    assert error.reason == reason
    assert "wrong" not in error.message and "extra" not in error.message


async def test_rediss_against_a_plain_server_is_tls() -> None:
    async with serving(FakeRedis()) as port:
        error = await failure(attempt_redis, redis(f"rediss://127.0.0.1:{port}"))
    assert error.reason == "tls"


@pytest.mark.parametrize(("mode", "ok"), [("auth", True), ("badpass", True)])
async def test_postgres_accepting(mode: str, ok: bool) -> None:
    server = FakePostgres(mode)
    async with serving(server) as port:
        message = await attempt_postgres(postgres(f"postgresql://app@127.0.0.1:{port}/orders"))
    assert message.startswith("accepting connections")
    assert server.startups == [startup_packet("app", "orders")]


@pytest.mark.parametrize(("mode", "reason"), [("starting", "loading"), ("garbage", "protocol"),
                                              ("close", "protocol")])
async def test_postgres_not_ready(mode: str, reason: str) -> None:
    async with serving(FakePostgres(mode)) as port:
        error = await failure(attempt_postgres, postgres(f"postgres://127.0.0.1:{port}"))
    assert error.reason == reason


async def ssh_like(stream: trio.SocketStream) -> None:
    async with stream:
        await stream.send_all(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
        await trio.sleep(10)


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_a_server_greeting_in_another_protocol_is_protocol(kind: str) -> None:
    async with serving(ssh_like) as port:
        attempt = attempt_redis if kind == "redis" else attempt_postgres
        error = await failure(attempt, ProbeSpec(name="x", kind=kind, url=f"{kind}://127.0.0.1:{port}"))
    assert error.reason == "protocol"


async def test_dns_failure_is_dns() -> None:
    error = await failure(attempt_tcp, ProbeSpec(name="t", kind="tcp", host="no-such-host.invalid", port=1))
    assert error.reason == "dns"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command (.ci/run installs it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (apt-get install openssl; .ci/run does)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


async def test_rediss_over_tls_trusting_a_private_ca(certificate: tuple[Path, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = FakeRedis(password="tls-pw")

    async def tls(stream: trio.SocketStream) -> None:
        try:
            await server(trio.SSLStream(stream, context, server_side=True))  # type: ignore[arg-type]
        except trio.BrokenResourceError:
            pass  # the untrusting client hung up mid-handshake

    async with serving(tls) as port:
        url = f"rediss://:tls-pw@127.0.0.1:{port}/0"
        # untrusted: the system's CAs do not know this certificate
        error = await failure(attempt_redis, redis(url))
        assert error.reason == "tls"
        # trusted through OpenSSL's SSL_CERT_FILE, as an operator with a private CA would do
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with trio.fail_after(5):
            assert await attempt_redis(redis(url)) == "PONG"
    assert ["PING"] in server.commands
