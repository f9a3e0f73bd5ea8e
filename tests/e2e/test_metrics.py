"""/metrics from the real CLI on every app loop: scraped over loopback, parsed by prometheus_client (issue 16)."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .cli import running


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_metrics_scraped_from_the_cli_while_serving_and_draining(tmp_path: Path, loop: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as dependency:  # a port that accepts: the probe passes
        port = dependency.getsockname()[1]
        config = tmp_path / "resync_fsm.toml"
        config.write_text(f'[[probes]]\nname = "db"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {port}\n')
        async with running("--bind", "127.0.0.1:0", "--drain-delay", "20", cwd=str(tmp_path),
                           RESYNC_FSM_SERVER_LOOP=loop) as cli:
            url = await cli.url()
            async with httpx.AsyncClient() as client:
                for _ in range(3):
                    assert (await client.get(url + "/")).status_code == 200
                assert (await client.get(url + "/readyz")).status_code == 200
                response = await client.get(url + "/metrics")
                assert response.headers["content-type"].startswith("text/plain; version=")
                serving = samples(response.text)
                cli.signal(signal.SIGTERM)
                await cli.wait_event("draining")
                draining = samples((await client.get(url + "/metrics")).text)  # drain_delay: still served
            cli.signal(signal.SIGINT)  # a second signal ends the drain at once
            assert await cli.wait() == 128 + signal.SIGINT
    assert serving[key("resync_fsm_state", state="serving")] == 1
    assert serving[key("resync_fsm_ready")] == 1
    assert serving[key("resync_fsm_transitions_total", **{"from": "probing", "to": "serving",
                                                          "event": "probes_passed"})] == 1
    assert serving[key("resync_fsm_probe_up", probe="db", kind="tcp", critical="true")] == 1
    assert serving[key("resync_fsm_probe_attempts_total", probe="db", kind="tcp")] == 1
    assert serving[key("resync_fsm_requests_total", method="GET", status_class="2xx")] == 3
    assert serving[key("resync_fsm_health_requests_total", endpoint="readyz")] == 1
    assert [labels for name, labels in serving if name == "resync_fsm_build_info"][0] >= {("loop", loop)}
    assert draining[key("resync_fsm_state", state="draining")] == 1
    assert draining[key("resync_fsm_ready")] == 0
    assert draining[key("resync_fsm_exit_info", state="draining", reason="SIGTERM")] == 1
    assert draining[key("resync_fsm_health_requests_total", endpoint="metrics")] == 2
