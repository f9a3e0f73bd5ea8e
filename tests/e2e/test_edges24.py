"""Issue 24 through the real CLI: empty optional values, Kubernetes service links, password rules,
TLS diagnostics, exception groups and timeout lines (one engine: the settings path is the same)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ..settings.test_tls_diagnostics import certificate
from .cli import running

ROOT = str(Path(__file__).resolve().parents[2])
LIFESPAN_APP = "tests.e2e.apps:lifespan_app"


async def test_item12_an_overrunning_startup_names_server_startup_timeout() -> None:
    async with running("--app", LIFESPAN_APP, "--bind", "127.0.0.1:0", "--app-startup-timeout", "0.3", cwd=ROOT,
                       RESYNC_TEST_LIFESPAN="slow-startup") as cli:
        assert await cli.wait() == 70
    assert cli.stderr.decode().splitlines() == [
        "LifespanError: the app's lifespan startup did not complete within 0.3 s (server.startup_timeout)"]


async def test_item10_an_empty_dotenv_password_is_unset_in_development(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_PASSWORD= # set by the vault later\nTWS_HOST=\n")
    async with running("--env-file", str(tmp_path / ".env"), "--bind", "127.0.0.1:0", cwd=str(tmp_path)) as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0, cli.stderr
    assert cli.stderr == b""


async def test_item8_a_kubernetes_service_named_tws_does_not_crash_loop_the_pod() -> None:
    links = {"TWS_PORT": "tcp://10.96.0.9:31111", "TWS_SERVICE_HOST": "10.96.0.9", "TWS_SERVICE_PORT": "31111",
             "TWS_PORT_31111_TCP": "tcp://10.96.0.9:31111", "TWS_PORT_31111_TCP_PROTO": "tcp",
             "TWS_PORT_31111_TCP_PORT": "31111", "TWS_PORT_31111_TCP_ADDR": "10.96.0.9",
             "REDIS_PORT": "tcp://10.96.0.10:6379", "REDIS_SERVICE_HOST": "10.96.0.10"}
    async with running("--bind", "127.0.0.1:0", cwd=ROOT, **links) as cli:
        warning = await cli.wait_event("settings_warning")
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0, cli.stderr
    assert warning["warning"].startswith("ignored: TWS_PORT: a Kubernetes service link")
    assert not [e for e in cli.events if str(e.get("event", "")).startswith("probe_")]


async def test_item11_resyncs_own_password_is_a_warning_in_development() -> None:
    password = "Resync2024!"  # 11 characters: Resync's own rule is 8
    async with running("--bind", "127.0.0.1:0", cwd=ROOT, ADMIN_PASSWORD=password, SECRET_KEY="short-key") as cli:
        await cli.url()
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0, cli.stderr
    warnings = [e["warning"] for e in cli.events if e.get("event") == "settings_warning"]
    assert [w.split(":")[0] for w in warnings] == ["ADMIN_PASSWORD", "SECRET_KEY"]
    assert password not in "\n".join(cli.stdout_lines) and b"short-key" not in cli.stderr


async def test_item11_production_refuses_our_docs_example_values() -> None:
    example = {"ADMIN_USERNAME": "operator", "ADMIN_PASSWORD": "change-this-to-a-long-passphrase",
               "SECRET_KEY": "change-this-to-64-random-characters-from-a-secrets-generator"}
    async with running("--bind", "127.0.0.1:0", cwd=ROOT, ENVIRONMENT="production", **example) as cli:
        assert await cli.wait() == 78
    (line,) = cli.stderr.decode().splitlines()
    assert "ADMIN_PASSWORD: is still a placeholder" in line and "SECRET_KEY: is still a placeholder" in line
    assert not any(secret in line or secret in "\n".join(cli.stdout_lines)
                   for secret in (example["ADMIN_PASSWORD"], example["SECRET_KEY"]))


LEAF = "RuntimeError: queue subscriber lost its connection"


@pytest.mark.parametrize("phase", ["startup", "serving", "shutdown"])
async def test_item7_a_lifespan_task_groups_leaf_is_named_in_every_phase(phase: str) -> None:
    async with running("--app", "tests.e2e.group_apps:app", "--bind", "127.0.0.1:0", cwd=ROOT,
                       RESYNC_TEST_GROUP=phase) as cli:
        if phase != "startup":
            url = await cli.url()
            if phase == "serving":
                async with httpx.AsyncClient() as client:
                    await client.get(url + "/crash")
            else:
                cli.signal(signal.SIGTERM)
        assert await cli.wait() == 70
    (line,) = cli.stderr.decode().splitlines()
    assert line.startswith("LifespanError: the app's lifespan ") and LEAF in line, line
    assert "sub-exception" not in line
    failure = next(e for e in cli.events if e.get("event") == "lifespan_failed")
    assert LEAF in failure["error_message"] and failure["error_details"]["phase"] == phase


async def test_item7_an_app_module_that_raises_a_group_on_import_names_its_leaves() -> None:
    async with running("--app", "tests.e2e.group_apps:app", "--bind", "127.0.0.1:0", cwd=ROOT,
                       RESYNC_TEST_GROUP="import") as cli:
        assert await cli.wait() == 70
    (line,) = cli.stderr.decode().splitlines()
    assert line.startswith("StartupError: the app module 'tests.e2e.group_apps'")
    assert line.endswith("(2 errors): KeyError: 'QUEUE_URL'; ValueError: bad QUEUE_SIZE"), line


async def test_item9_an_expired_certificate_is_served_with_a_warning_naming_its_date(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC))
    async with running("--bind", "127.0.0.1:0", "--certfile", str(cert), "--keyfile", str(key), cwd=ROOT) as cli:
        warning = await cli.wait_event("settings_warning")
        assert (await cli.url()).startswith("https://")
        cli.signal(signal.SIGTERM)
        assert await cli.wait() == 0, cli.stderr
    assert warning["warning"] == ("--certfile: the certificate expired on 2020-01-01 00:00 UTC (notAfter): "
                                  "clients will refuse it; renew it")


async def test_item9_a_certfile_that_is_not_pem_is_named(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, datetime(2019, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC))
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    async with running("--bind", "127.0.0.1:0", "--certfile", str(cert), "--keyfile", str(key), cwd=ROOT) as cli:
        assert await cli.wait() == 78
    assert cli.stderr.decode() == ("ConfigurationValidationError: 1 configuration problem: --certfile: is not a "
                                   "PEM certificate chain (no -----BEGIN CERTIFICATE----- block that parses)\n")
