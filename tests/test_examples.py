"""The deployment recipes in examples/ agree with the code: probe paths, grace periods, notify type,
the scrape annotations, and the Grafana dashboard's queries."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
import yaml

from resync_fsm.cli import build_parser, flag_values
from resync_fsm.notify import Notifier
from resync_fsm.runner import Runner
from resync_fsm.settings import Settings, load_settings

from .fakes import FakeServer
from .test_metrics import run_lifecycle

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# what the manifest's secretRef would hold: values that pass the production rules
SECRETS = {"ADMIN_PASSWORD": "a-Strong-passphrase-42", "SECRET_KEY": "s" * 20 + "K" * 20,
           "TWS_PASSWORD": "tws-secret", "LLM_API_KEY": "sk-x", "REDIS_URL": "redis://:pw@redis:6379/0"}


def settings_for(argv: list[str], environ: dict[str, str]) -> Settings:
    args = build_parser().parse_args(argv)
    return load_settings(flags=flag_values(args), environ=environ, cwd=Path("/nonexistent"))


def manifest(kind: str) -> dict[str, Any]:
    documents = list(yaml.safe_load_all((EXAMPLES / "kubernetes.yaml").read_text()))
    return next(d for d in documents if d["kind"] == kind)


def deployment() -> dict[str, Any]:
    return manifest("Deployment")


def container_environ(container: dict[str, Any]) -> dict[str, str]:
    """The environment Kubernetes gives the container: envFrom sources, then env."""
    environ: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            config_map = manifest("ConfigMap")
            assert config_map["metadata"]["name"] == source["configMapRef"]["name"]
            environ.update(config_map["data"])
        else:
            environ.update(SECRETS)
    environ.update({e["name"]: e["value"] for e in container.get("env", [])})
    return environ


def container_settings(container: dict[str, Any]) -> Settings:
    command = container["command"]
    assert command[:3] == ["python", "-m", "resync_fsm"]
    environ = container_environ(container)
    argv = command[3:]
    return settings_for(argv if argv[:1] == ["check"] else ["run", *argv], environ)


def test_kubernetes_probes_hit_the_health_endpoints() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    container = pod["containers"][0]
    settings = container_settings(container)
    assert container["readinessProbe"]["httpGet"]["path"] == settings.server.readyz_path
    assert container["livenessProbe"]["httpGet"]["path"] == settings.server.livez_path
    assert container["startupProbe"]["httpGet"]["path"] in (settings.server.livez_path, settings.server.readyz_path)
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert settings.server.bind == (f"0.0.0.0:{port}",)
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] > settings.startup.timeout


def test_kubernetes_grace_period_covers_the_drain() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    settings = container_settings(pod["containers"][0])
    server = settings.server
    assert server.drain_delay > 0  # the reason no preStop sleep is needed
    budget = server.drain_delay + server.graceful_timeout + server.shutdown_timeout
    assert pod["terminationGracePeriodSeconds"] >= budget
    assert server.termination_grace == pod["terminationGracePeriodSeconds"]
    assert settings.warnings() == []
    assert "preStop" not in str(pod)


def test_kubernetes_init_container_runs_check_on_the_same_dependencies() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    init = pod["initContainers"][0]
    assert init["command"][3] == "check"
    checked = container_settings(init)
    assert checked.probes == container_settings(pod["containers"][0]).probes
    assert {p.name for p in checked.probes} == {"redis", "tws", "llm"}


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((EXAMPLES / "resync-fsm.service").read_text())
    return parser


def test_systemd_unit_matches_the_runner() -> None:
    service = unit()["Service"]
    assert service["Type"] in ("notify", "notify-reload") and service["NotifyAccess"] == "main"
    argv = shlex.split(service["ExecStart"])
    assert argv[1:3] == ["-m", "resync_fsm"]
    settings = settings_for(["run", *argv[3:]], {})
    server = settings.server
    if service["Type"] == "notify-reload":  # SIGHUP reloads only with workers; the supervisor drains them
        assert server.workers > 1 and service["KillMode"] == "mixed"
    assert int(service["TimeoutStopSec"]) >= server.drain_delay + server.graceful_timeout + server.shutdown_timeout
    assert int(service["WatchdogSec"]) > 0
    assert service["RestartPreventExitStatus"] == "78"


async def _notified(tmp_path: Path, backend: FakeServer, while_serving: Callable[[Runner], None]) -> list[str]:
    """The notify messages of a runner that serves, calls ``while_serving(runner)``, then drains."""
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(path)
        receiver.setblocking(False)

        async def load() -> Settings:
            return Settings()

        async def app(scope, receive, send):  # type: ignore[no-untyped-def]
            pass

        runner = Runner(load, backend=backend, app=app, handle_signals=False,
                        notifier=Notifier({"NOTIFY_SOCKET": path}))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner.run)
            await runner.wait_for_state("serving")
            await trio.testing.wait_all_tasks_blocked()
            while_serving(runner)
            await trio.testing.wait_all_tasks_blocked()
            runner.request_drain()
        messages = []
        while True:
            try:
                messages.append(receiver.recv(4096).decode())
            except BlockingIOError:
                break
    return messages


async def test_the_runner_sends_what_type_notify_waits_for(tmp_path: Path) -> None:
    messages = await _notified(tmp_path, FakeServer(), lambda runner: None)
    assert "READY=1\nSTATUS=serving" in messages
    assert "STOPPING=1\nSTATUS=draining" in messages


async def test_a_reload_sends_what_type_notify_reload_waits_for(tmp_path: Path) -> None:
    reloaded = []

    class Reloading(FakeServer):
        async def reload(self) -> None:
            reloaded.append(True)

    messages = await _notified(tmp_path, Reloading(), Runner.request_reload)
    assert reloaded == [True]
    start = next(i for i, m in enumerate(messages) if m.startswith("RELOADING=1\nMONOTONIC_USEC="))
    assert "READY=1\nSTATUS=serving" in messages[start + 1:]


def test_kubernetes_scrape_annotations_point_at_the_metrics_endpoint() -> None:
    template = deployment()["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    container = template["spec"]["containers"][0]
    settings = container_settings(container)
    assert settings.server.metrics is True
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == settings.server.metrics_path
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    # with a management listener, /metrics is served there only (docs/operations.md "Exposure")
    assert int(annotations["prometheus.io/port"]) == ports["management"]
    assert settings.server.management_bind == (f"0.0.0.0:{ports['management']}",)
    assert settings.server.bind == (f"0.0.0.0:{ports['http']}",)


def test_kubernetes_keeps_status_off_the_app_port_and_the_probes_on_it() -> None:
    from resync_fsm.runner.serving import public_status

    container = deployment()["spec"]["template"]["spec"]["containers"][0]
    settings = container_settings(container)
    assert public_status(settings, object()) is False  # not on the port a Service exposes
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert ports[container[probe]["httpGet"]["port"]] == ports["http"]  # the public listener answers them


# labels that Prometheus's scrape adds (job, instance) or the Kubernetes service discovery relabels in
TARGET_LABELS = {"job", "instance", "pod", "namespace"}


def dashboard_queries() -> list[str]:
    dashboard = json.loads((EXAMPLES / "grafana-dashboard.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    queries = [target["expr"] for panel in panels for target in panel["targets"]]
    assert all(panel["targets"] for panel in panels)
    variables = [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return queries + variables


async def test_every_metric_the_dashboard_queries_is_exported(autojump_clock: trio.abc.Clock) -> None:
    runner = await run_lifecycle({})  # every family populated: probes, requests, a drain
    assert runner.metrics is not None
    labels_of: dict[str, set[str]] = {}
    for family in runner.metrics.registry.collect():
        for sample in family.samples:
            labels_of.setdefault(sample.name, set()).update(sample.labels)
    queried: set[str] = set()
    for query in dashboard_queries():
        names = set(re.findall(r"\bresync_fsm_[a-z0-9_]+", query))
        assert names, f"a query on no resync_fsm metric: {query}"
        missing = names - labels_of.keys()
        assert not missing, f"{query}: not exported: {sorted(missing)}"
        known = set().union(*(labels_of[name] for name in names)) | TARGET_LABELS
        used = {label for group in re.findall(r"\bby \(([^)]*)\)", query) for label in re.split(r",\s*", group)}
        used |= set(re.findall(r"[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)", query))
        assert used <= known, f"{query}: labels {sorted(used - known)} are on none of {sorted(names)}"
        queried |= names
    # the dashboard shows every family but the _created timestamps
    families = {name.removesuffix("_bucket") for name in labels_of if not name.endswith(("_created", "_sum", "_count"))}
    assert {name.removesuffix("_bucket") for name in queried} == families


def test_socket_unit_serves_the_services_address_through_fd_3() -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((EXAMPLES / "resync-fsm.socket").read_text())
    listen = parser["Socket"]
    assert listen["Service"] == "resync-fsm.service"
    argv = shlex.split(unit()["Service"]["ExecStart"])[3:]
    bind = argv.index("--bind")
    assert listen["ListenStream"] == argv[bind + 1]  # the same address, now held by systemd
    without_bind = argv[:bind] + argv[bind + 2:]
    activated = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid()), "LISTEN_FDNAMES": listen["FileDescriptorName"]}
    settings = settings_for(["run", *without_bind], activated)
    assert settings.server.bind == ("fd://3",)
    assert settings.sources["server.bind"] == "env LISTEN_FDS (names: http)"
    assert int(listen["Backlog"]) == settings.server.backlog
