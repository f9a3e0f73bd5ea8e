"""/metrics through a whole lifecycle, scraped and parsed with prometheus_client's own text parser.

In process on MockClock with fakes: the health wrapper is called as the ASGI app
it is, as the server would call it (issue 16).
"""

from __future__ import annotations

import re
import signal
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from resync_fsm import __version__
from resync_fsm.lifecycle import STATES, TRANSITIONS
from resync_fsm.probes import ProbeBoard, probe_all
from resync_fsm.probes.results import REASONS
from resync_fsm.runner import Runner
from resync_fsm.settings import ServerSettings, Settings
from resync_fsm.web.metrics import HTTP_METHODS, RunnerMetrics

from .fakes import FakeServer, ScriptedAttempts, seeded, spec

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def app(scope: Any, receive: Any, send: Any) -> None:
    """200 for anything; /boom raises before responding; /slow never finishes on its own."""
    if scope["path"] == "/boom":
        raise RuntimeError("the app broke")
    if scope["path"] == "/slow":
        await trio.sleep_forever()
    await send({"type": "http.response.start", "status": 404 if scope["path"] == "/missing" else 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def call(runner: Runner, method: str, path: str, client: str = "203.0.113.9") -> tuple[int, bytes, bytes]:
    """One request through the runner's wrapper: (status, content type, body)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": [],
             "http_version": "1.1", "client": (client, 50000)}
    assert runner.wrapper is not None
    await runner.wrapper(scope, receive, send)
    headers = dict(sent[0]["headers"])
    return sent[0]["status"], headers[b"content-type"], b"".join(m.get("body", b"") for m in sent[1:])


async def scrape(runner: Runner) -> Samples:
    status, content_type, body = await call(runner, "GET", "/metrics")
    assert status == 200 and content_type.startswith(b"text/plain; version=")
    return parse(body.decode())


def lifecycle_runner(scrapes: dict[str, Samples]) -> Runner:
    """Validating takes 0.5 s; probe db is refused once, then passes (each attempt 0.01 s)."""
    settings = Settings(server=ServerSettings(drain_delay=5.0), probes=(spec("db", timeout=1.0),))
    runner: Runner

    def script(name: str, n: int) -> str:
        if n == 2:  # the first attempt has failed: what a scrape during probing sees
            assert runner.metrics is not None
            scrapes["probing"] = parse(runner.metrics.render().decode())
        return "refused" if n == 1 else "ok"

    attempts = ScriptedAttempts(script)

    async def probe(board: ProbeBoard, s: Settings, deadline: float, settle: bool) -> None:
        await probe_all(board, attempts, deadline=deadline, until_settled=settle, rng=seeded())

    async def load() -> Settings:
        await trio.sleep(0.5)
        return settings

    runner = Runner(load, probe=probe, backend=FakeServer(), app=app, handle_signals=False)
    return runner


async def run_lifecycle(scrapes: dict[str, Samples]) -> Runner:
    runner = lifecycle_runner(scrapes)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(10.0)
        for method, path in [("GET", "/"), ("GET", "/users/12345"), ("POST", "/orders"), ("BREW", "/pot"),
                             ("GET", "/missing"), ("GET", "/livez"), ("GET", "/readyz")]:
            await call(runner, method, path)
        with pytest.raises(RuntimeError):
            await call(runner, "DELETE", "/boom")
        scrapes["serving"] = await scrape(runner)
        slow = trio.CancelScope()

        async def slow_request() -> None:
            with slow:
                await call(runner, "GET", "/slow")

        nursery.start_soon(slow_request)
        await trio.testing.wait_all_tasks_blocked()
        runner.request_drain(signal.SIGTERM)
        await runner.wait_for_state("draining")
        await trio.sleep(1.0)  # within drain_delay: the listener still serves
        scrapes["draining"] = await scrape(runner)
        slow.cancel()  # as the server cuts a request when the graceful timeout runs out
    assert runner.state == "stopped"
    assert runner.metrics is not None
    scrapes["stopped"] = parse(runner.metrics.render().decode())
    return runner


async def test_metrics_through_a_whole_lifecycle(autojump_clock: trio.abc.Clock) -> None:
    scrapes: dict[str, Samples] = {}
    await run_lifecycle(scrapes)
    probing, serving, draining, stopped = (scrapes[k] for k in ("probing", "serving", "draining", "stopped"))

    # lifecycle: one gauge per state, 1 for the current one
    for samples, current in [(probing, "probing"), (serving, "serving"), (draining, "draining"),
                             (stopped, "stopped")]:
        assert {name: value(samples, "resync_fsm_state", state=name) for name, _, _ in STATES} == {
            name: 1.0 if name == current else 0.0 for name, _, _ in STATES}
    assert value(probing, "resync_fsm_transitions_total", **{"from": "validating", "to": "probing",
                                                              "event": "settings_valid"}) == 1
    assert value(probing, "resync_fsm_transitions_total", **{"from": "probing", "to": "serving",
                                                              "event": "probes_passed"}) == 0
    taken = {("created", "validating", "start"), ("validating", "probing", "settings_valid"),
             ("probing", "serving", "probes_passed"), ("serving", "draining", "drain"),
             ("draining", "stopped", "drained")}
    for event, source, dest, _ in TRANSITIONS:
        labels = {"from": source, "to": dest, "event": event}
        assert value(stopped, "resync_fsm_transitions_total", **labels) == (1 if (source, dest, event) in taken else 0)
    seconds = {name: value(stopped, "resync_fsm_state_seconds_total", state=name) for name, _, _ in STATES}
    assert seconds["validating"] == pytest.approx(0.5)
    assert 0.02 <= seconds["probing"] <= 0.2  # two 0.01 s attempts around one jittered backoff
    assert seconds["serving"] == pytest.approx(10.0)  # the test's sleep; requests take no virtual time
    assert seconds["draining"] == pytest.approx(5.0)  # drain_delay; the fake server lingers 0 s
    assert seconds["stopped"] == 0 and seconds["failed"] == 0
    assert value(serving, "resync_fsm_state_seconds_total", state="serving") >= 0  # the current visit counts
    assert value(draining, "resync_fsm_exit_info", state="draining", reason="SIGTERM") == 1
    assert not [k for k in serving if k[0] == "resync_fsm_exit_info"]
    assert value(serving, "resync_fsm_ready") == 1 and value(draining, "resync_fsm_ready") == 0
    assert 0 < value(serving, "resync_fsm_start_time_seconds") <= value(stopped, "resync_fsm_start_time_seconds")
    # Settings() resolves "auto" itself (settings/auto.py) and has no sources: "explicit"
    assert value(serving, "resync_fsm_build_info", version=__version__, loop="uvloop", engine="uvicorn",
                 engine_choice="explicit", loop_choice="explicit",
                 python=__import__("platform").python_version()) == 1

    # probes: up, attempts, failures by reason, duration histogram
    db = {"probe": "db", "kind": "tcp"}
    assert value(probing, "resync_fsm_probe_up", critical="true", **db) == 0
    assert value(probing, "resync_fsm_probe_attempts_total", **db) == 1
    assert value(probing, "resync_fsm_probe_failures_total", reason="refused", **db) == 1
    assert value(serving, "resync_fsm_probe_up", critical="true", **db) == 1
    assert value(serving, "resync_fsm_probe_attempts_total", **db) == 2
    assert value(serving, "resync_fsm_probe_failures_total", reason="refused", **db) == 1
    assert value(serving, "resync_fsm_probe_duration_seconds_count", **db) == 2
    assert value(serving, "resync_fsm_probe_duration_seconds_sum", **db) == pytest.approx(0.02)
    assert value(serving, "resync_fsm_probe_duration_seconds_bucket", le="0.01", **db) == 2
    assert value(serving, "resync_fsm_probe_duration_seconds_bucket", le="0.005", **db) == 0

    # requests: the app's by method and status class; the endpoints apart
    def requests(samples: Samples, method: str, status_class: str) -> float:
        return value(samples, "resync_fsm_requests_total", method=method, status_class=status_class)

    assert requests(serving, "GET", "2xx") == 2
    assert requests(serving, "GET", "4xx") == 1
    assert requests(serving, "POST", "2xx") == 1
    assert requests(serving, "other", "2xx") == 1  # BREW: not a standard method, not a label value
    assert requests(serving, "DELETE", "5xx") == 1  # raised before responding: the server answers 500
    assert value(serving, "resync_fsm_request_duration_seconds_count", method="GET", status_class="2xx") == 2
    assert sum(v for (name, _), v in serving.items() if name == "resync_fsm_requests_total") == 6
    assert value(serving, "resync_fsm_health_requests_total", endpoint="livez") == 1
    assert value(serving, "resync_fsm_health_requests_total", endpoint="readyz") == 1
    assert value(serving, "resync_fsm_health_requests_total", endpoint="metrics") == 1  # this scrape
    assert value(serving, "resync_fsm_requests_in_flight") == 0
    assert value(draining, "resync_fsm_requests_in_flight") == 1  # /slow
    assert value(draining, "resync_fsm_requests_cut_total") == 0
    assert value(stopped, "resync_fsm_requests_cut_total") == 1
    assert value(stopped, "resync_fsm_requests_in_flight") == 0
    assert requests(stopped, "GET", "none") == 1  # cut before it responded


# Prometheus naming (https://prometheus.io/docs/practices/naming/) and bounded labels.
NAME = re.compile(r"resync_fsm_[a-z][a-z0-9_]*[a-z0-9]")
UNBOUNDED_LABELS = {"path", "url", "uri", "target", "host", "client", "address", "addr", "ip", "peer", "message",
                    "user", "user_agent", "query"}


def bounded_values() -> dict[str, set[str]]:
    """Every value each label may take in the lifecycle above; anything else is unbounded or a leak."""
    states = {name for name, _, _ in STATES}
    return {
        "state": states, "from": states, "to": states, "event": {event for event, *_ in TRANSITIONS},
        "probe": {"db"}, "kind": {"tcp", "http", "redis", "postgres"}, "critical": {"true", "false"},
        "reason": {*REASONS, "other", "SIGTERM"}, "method": {*HTTP_METHODS, "other"},
        "status_class": {"none", "1xx", "2xx", "3xx", "4xx", "5xx"},
        "endpoint": {"livez", "readyz", "status", "metrics"},
        "version": {__version__}, "loop": {"asyncio", "uvloop", "trio"}, "engine": {"hypercorn", "uvicorn"},
        "engine_choice": {"auto", "explicit"}, "loop_choice": {"auto", "explicit"},
        "python": {__import__("platform").python_version()},
    }


async def test_every_family_follows_the_naming_conventions(autojump_clock: trio.abc.Clock) -> None:
    scrapes: dict[str, Samples] = {}
    runner = await run_lifecycle(scrapes)
    assert runner.metrics is not None
    allowed = bounded_values()
    families = list(runner.metrics.registry.collect())
    assert len(families) >= 15
    for family in families:
        name = family.name
        assert NAME.fullmatch(name), name
        assert family.documentation.strip(), f"{name} has no HELP"
        assert not re.search(r"_(ms|milliseconds|microseconds|minutes|hours|kilobytes|megabytes)(_|$)", name), name
        assert ("seconds" in name) == (family.type == "histogram" or name.endswith(("_seconds", "_seconds_total"))
                                       or "_seconds_" in name), name
        if family.type == "histogram":
            assert name.endswith("_seconds"), f"{name}: a histogram here measures time, in seconds"
        if name.endswith("_info"):
            assert family.type == "gauge" and all(s.value == 1 for s in family.samples), name
        for sample in family.samples:
            if family.type == "counter" and not sample.name.endswith("_created"):
                assert sample.name.endswith("_total"), sample.name
            if family.type != "counter":
                assert not sample.name.endswith("_total"), sample.name
            for label, label_value in sample.labels.items():
                assert label not in UNBOUNDED_LABELS, f"{name}{{{label}}}"
                if label == "le":
                    float(label_value)
                    continue
                assert label_value in allowed[label], f"{name}{{{label}={label_value!r}}}: not a bounded value"
    # what the requests carried never reaches a label: paths, client addresses, messages
    text = runner.metrics.render().decode()
    for leak in ("12345", "/users", "203.0.113.9", "BREW", "fake.invalid", "scripted"):
        assert leak not in text


def test_several_runners_keep_apart_registries() -> None:
    async def load() -> Settings:
        return Settings()

    first, second = Runner(load, handle_signals=False), Runner(load, handle_signals=False)
    a, b = RunnerMetrics(first.view), RunnerMetrics(second.view)
    assert a.registry is not b.registry
    a.observe_request("GET", 200, 0.001)
    assert b"resync_fsm_requests_total{" not in b.render()
    assert b'resync_fsm_requests_total{method="GET",status_class="2xx"} 1.0' in a.render()


async def test_metrics_off_serves_no_route_and_builds_no_registry(autojump_clock: trio.abc.Clock) -> None:
    settings = Settings(server=ServerSettings(metrics=False))

    async def load() -> Settings:
        return settings

    runner = Runner(load, backend=FakeServer(), app=app, handle_signals=False)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.testing.wait_all_tasks_blocked()
        assert runner.metrics is None
        status, _, body = await call(runner, "GET", "/metrics")
        assert (status, body) == (200, b"ok")  # the app's own /metrics, if it has one
        runner.request_drain()


async def test_every_probe_attempt_counts_once_across_startup_and_watch_rounds(autojump_clock: trio.abc.Clock) -> None:
    # the watch's rounds probe a board of their own and copy the results to the runner's: counted once
    def script(name: str, n: int) -> str:
        return "timeout" if n in (3, 4, 5) else "ok"

    attempts = ScriptedAttempts(script)

    async def probe(board: ProbeBoard, s: Settings, deadline: float, settle: bool) -> None:
        await probe_all(board, attempts, deadline=deadline, until_settled=settle, rng=seeded())

    settings = Settings(server=ServerSettings(watch_interval=5.0), probes=(spec("db", timeout=1.0),))

    async def load() -> Settings:
        return settings

    runner = Runner(load, probe=probe, backend=FakeServer(), app=app, handle_signals=False)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner.run)
        await runner.wait_for_state("serving")
        await trio.sleep(30.0)
        runner.request_drain()
    assert runner.metrics is not None
    samples = parse(runner.metrics.render().decode())
    db = {"probe": "db", "kind": "tcp"}
    assert len(attempts.calls) >= 6
    assert value(samples, "resync_fsm_probe_attempts_total", **db) == len(attempts.calls)
    assert value(samples, "resync_fsm_probe_duration_seconds_count", **db) == len(attempts.calls)
    assert value(samples, "resync_fsm_probe_failures_total", reason="timeout", **db) == 3
    assert value(samples, "resync_fsm_probe_up", critical="true", **db) == 1


@given(method=st.text(max_size=12) | st.sampled_from(sorted(HTTP_METHODS)),
       status=st.integers(min_value=-10**6, max_value=10**6), seconds=st.floats(min_value=0.0, max_value=1e6))
def test_any_request_lands_in_a_bounded_series(method: str, status: int, seconds: float) -> None:
    # whatever a client sends as method and an app as status: one of 10 x 6 series, counted once
    async def load() -> Settings:
        return Settings()

    metrics = RunnerMetrics(Runner(load, handle_signals=False).view)
    metrics.observe_request(method, status, seconds)
    [((label_method, status_class), row)] = metrics.requests()
    assert label_method == (method if method in HTTP_METHODS else "other")
    assert status_class == (f"{status // 100}xx" if 100 <= status < 600 else "none")
    assert (row.count, row.sum) == (1, seconds)
