"""Prometheus metrics for one runner: the lifecycle, the probes and the app's requests.

Rendered at ``server.metrics_path`` (``/metrics``) in the text format Prometheus
scrapes, by ``prometheus_client`` from a :class:`~prometheus_client.CollectorRegistry`
of this runner's own (never the process-wide one: tests and embedders run several
runners in one process). Names follow Prometheus's conventions
(https://prometheus.io/docs/practices/naming/): the ``resync_fsm_`` prefix, base
units (seconds), ``_total`` on counters, and no label that holds an unbounded
value — no path, no client address, no probe target, no error message. What is
labelled: states and events of the transition table, configured probe names and
kinds, reason codes (:data:`~resync_fsm.probes.results.REASONS`), the standard
HTTP methods (anything else is ``other``), status classes, endpoint roles, signal
and error class names.

State, readiness, requests in flight and requests cut are read when scraped
(:class:`_Live`); transitions and probe results arrive through the runner's
listeners; requests are counted by the health wrapper through
:meth:`RunnerMetrics.observe_request`, whose label children are bound once per
(method, status class) and cached, so a request costs two increments and one
bucket search.
"""

from __future__ import annotations

import platform
import signal
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .. import __version__
from ..lifecycle import FINAL_STATES, STATES, TRANSITIONS, Move
from ..probes.results import REASONS, ProbeResult
from .asgi import Scope, Send, send_body

if TYPE_CHECKING:
    from ..probes import ProbeBoard
    from ..runner import Runner

__all__ = ["CONTENT_TYPE", "HTTP_METHODS", "PROBE_BUCKETS", "REQUEST_BUCKETS", "RunnerMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST.encode()
# RFC 9110 §9 and PATCH (RFC 5789); a client can send any token, which would make the label unbounded.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
# Dependency checks: a loopback answer in a millisecond, a cross-zone TLS handshake in tens,
# the attempt timeout (3 s by default, rarely above 30 s) at the top.
PROBE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# prometheus_client's defaults with a 1 ms bucket in front: an in-process app answers below 5 ms.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATUS_CLASSES = ("none", "1xx", "2xx", "3xx", "4xx", "5xx")  # indexed by status // 100; 0: no response


class RunnerMetrics:
    """The registry of one :class:`~resync_fsm.runner.Runner` and what feeds it.

    Built once the settings are valid (``server.metrics``); it replays the
    transitions made so far and then follows ``runner.listeners``. ``clock``
    (seconds, monotonic) times the state being lived in; finished visits take
    the runner's own ``Move.elapsed``.
    """

    def __init__(self, runner: Runner, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.runner = runner
        self.clock = clock
        self.registry = registry = CollectorRegistry()
        self.seconds: dict[str, float] = {name: 0.0 for name, _, _ in STATES}
        self.entered = clock()
        self._last_probe: dict[str, ProbeResult] = {}
        self._requests: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.transitions = Counter("resync_fsm_transitions_total", "Lifecycle transitions applied.",
                                   ["from", "to", "event"], registry=registry)
        for event, source, dest, _ in TRANSITIONS:
            self.transitions.labels(source, dest, event)
        self.exit = Gauge("resync_fsm_exit_info", "Why the lifecycle is leaving serving (1): the state it entered "
                          "(draining, failed) and the signal name, 'request' (API) or the error class.",
                          ["state", "reason"], registry=registry)
        Gauge("resync_fsm_build_info", "The running build (1).", ["version", "loop", "python"],
              registry=registry).labels(__version__, runner.loop_name, platform.python_version()).set(1)
        probe = ["probe", "kind"]
        self.probe_up = Gauge("resync_fsm_probe_up", "1 when the probe's last attempt passed, else 0.",
                              [*probe, "critical"], registry=registry)
        self.probe_attempts = Counter("resync_fsm_probe_attempts_total", "Probe attempts finished.", probe,
                                      registry=registry)
        self.probe_failures = Counter("resync_fsm_probe_failures_total", "Failed probe attempts by reason code.",
                                      [*probe, "reason"], registry=registry)
        self.probe_duration = Histogram("resync_fsm_probe_duration_seconds", "Duration of each probe attempt.",
                                        probe, buckets=PROBE_BUCKETS, registry=registry)
        request = ["method", "status_class"]
        self.requests = Counter("resync_fsm_requests_total", "The app's HTTP requests by method and status "
                                "class ('none': no response started), health endpoints apart.", request,
                                registry=registry)
        self.request_duration = Histogram("resync_fsm_request_duration_seconds", "Duration of the app's HTTP "
                                          "requests, health endpoints apart.", request, buckets=REQUEST_BUCKETS,
                                          registry=registry)
        self.health = Counter("resync_fsm_health_requests_total", "Requests answered by the runner's own "
                              "endpoints (livez, readyz, status, metrics).", ["endpoint"], registry=registry)
        registry.register(_Live(self))
        for move in runner.lifecycle.history:
            self.on_move(move)
        runner.listeners.append(self.on_move)

    # --- lifecycle ----------------------------------------------------------------
    def on_move(self, move: Move) -> None:
        """A transition (a runner listener): count it, add the finished visit's seconds, note exits."""
        self.transitions.labels(move.source, move.dest, move.event).inc()
        self.seconds[move.source] += move.elapsed
        self.entered = self.clock()
        if move.dest in ("draining", "failed"):
            self.exit.clear()
            self.exit.labels(move.dest, self._exit_reason(move.dest)).set(1)

    def _exit_reason(self, dest: str) -> str:
        runner = self.runner
        error = runner.error if dest == "failed" else runner.fault
        if error is not None:
            return type(error).__name__
        if dest == "failed":
            return "StartupError"
        if runner.drain_signal is not None:
            return signal.Signals(runner.drain_signal).name
        return "request"

    # --- probes -------------------------------------------------------------------
    def watch_board(self, board: ProbeBoard) -> None:
        """Follow ``board``'s results; every configured probe's series exist from now on."""
        for spec in board.specs.values():
            self.probe_up.labels(spec.name, spec.kind, _flag(spec.critical))
            self.probe_attempts.labels(spec.name, spec.kind)
            self.probe_duration.labels(spec.name, spec.kind)
        board.listeners.append(self.on_probe)

    def on_probe(self, result: ProbeResult) -> None:
        """One result (a board listener). The same result object copied to another board counts once."""
        if self._last_probe.get(result.name) is result:
            return
        self._last_probe[result.name] = result
        self.probe_up.labels(result.name, result.kind, _flag(result.critical)).set(1 if result.ok else 0)
        if result.status not in ("ok", "fail"):  # pending, skipped: no attempt finished
            return
        self.probe_attempts.labels(result.name, result.kind).inc()
        if result.latency_ms is not None:
            self.probe_duration.labels(result.name, result.kind).observe(result.latency_ms / 1000)
        if result.status == "fail":
            reason = result.reason if result.reason in REASONS else "other"
            self.probe_failures.labels(result.name, result.kind, reason).inc()

    # --- requests -----------------------------------------------------------------
    def observe_request(self, method: str, status: int, seconds: float) -> None:
        """One app request: ``status`` 0 when no response started; ``seconds`` from call to return."""
        if method not in HTTP_METHODS:
            method = "other"
        key = (method, status // 100)
        children = self._requests.get(key)
        if children is None:
            children = self._bind(*key)
        children[0].inc()
        children[1].observe(seconds)

    def _bind(self, method: str, hundreds: int) -> tuple[Any, Any]:
        status_class = _STATUS_CLASSES[hundreds] if 0 <= hundreds < len(_STATUS_CLASSES) else "none"
        children = self.requests.labels(method, status_class), self.request_duration.labels(method, status_class)
        self._requests[(method, hundreds)] = children
        return children

    def health_counter(self, endpoint: str) -> Any:
        """The bound counter child for one of the runner's endpoints (``livez``, ``metrics``, …)."""
        return self.health.labels(endpoint)

    # --- exposition ---------------------------------------------------------------
    def render(self) -> bytes:
        """The registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)

    async def serve(self, scope: Scope, send: Send) -> None:
        """The ``/metrics`` endpoint (a health-wrapper route)."""
        await send_body(send, 200, CONTENT_TYPE, self.render())


def _flag(value: bool) -> str:
    return "true" if value else "false"


class _Live(Collector):
    """What is read at scrape time rather than counted: state, readiness, in flight, cut, start."""

    def __init__(self, metrics: RunnerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        metrics, runner = self.metrics, self.metrics.runner
        current = runner.state
        state = GaugeMetricFamily("resync_fsm_state", "1 for the lifecycle's current state, 0 for the others.",
                                  labels=["state"])
        seconds = CounterMetricFamily("resync_fsm_state_seconds_total", "Seconds spent in each state, the "
                                      "current visit included.", labels=["state"])
        living = 0.0 if current in FINAL_STATES else metrics.clock() - metrics.entered
        for name, _, _ in STATES:
            state.add_metric([name], 1 if name == current else 0)
            seconds.add_metric([name], metrics.seconds[name] + (living if name == current else 0.0))
        yield state
        yield seconds
        yield GaugeMetricFamily("resync_fsm_ready", "1 while /readyz answers 200.", value=1 if runner.ready()[0] else 0)
        yield GaugeMetricFamily("resync_fsm_start_time_seconds", "When the runner started, seconds since the epoch.",
                                value=runner.started_wall)
        wrapper = runner.wrapper
        yield GaugeMetricFamily("resync_fsm_requests_in_flight", "HTTP requests and websockets the app is handling.",
                                value=wrapper.in_flight if wrapper else 0)
        yield CounterMetricFamily("resync_fsm_requests_cut_total", "Requests and websockets cancelled when the "
                                  "graceful timeout ran out.", value=wrapper.cut if wrapper else 0)
