"""The runner's counts as Prometheus metric families, rendered by ``prometheus_client`` when scraped.

Imported at the first scrape only (:attr:`~.metrics.RunnerMetrics.registry`):
one :class:`~prometheus_client.registry.Collector` reads
:class:`~.metrics.RunnerMetrics` and the lifecycle view at scrape time and yields the
families docs/operations.md "Metrics" lists (custom collectors, as
prometheus_client documents them for values the application holds). Counters
carry no ``_created`` series.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..lifecycle import FINAL_STATES, STATES

if TYPE_CHECKING:
    from .metrics import Durations, RunnerMetrics

__all__ = ["registry_of"]

_PROBE = ["probe", "kind"]
_REQUEST = ["method", "status_class"]


def registry_of(metrics: RunnerMetrics) -> CollectorRegistry:
    """A registry of its own holding ``metrics``' collector."""
    registry = CollectorRegistry()
    registry.register(_Collector(metrics))
    return registry


def _family(kind: type[CounterMetricFamily] | type[GaugeMetricFamily], name: str, documentation: str,
            labels: list[str], values: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    family = kind(name, documentation, labels=labels)
    for label_values, value in values:
        family.add_metric(list(label_values), value)
    return family


def _counter(name: str, documentation: str, labels: list[str],
             values: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    return _family(CounterMetricFamily, name, documentation, labels, values)


def _gauge(name: str, documentation: str, labels: list[str], values: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    return _family(GaugeMetricFamily, name, documentation, labels, values)


def _histogram(name: str, documentation: str, labels: list[str],
               series: Iterable[tuple[tuple[str, ...], Durations]]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for label_values, durations in series:
        buckets, total = [], 0
        for bound, count in zip((*map(repr, durations.bounds), "+Inf"), durations.counts, strict=True):
            total += count
            buckets.append((bound, total))  # le as prometheus_client's own Histogram writes it
        family.add_metric(list(label_values), buckets, durations.sum)
    return family


class _Collector(Collector):
    """Every family, read from the counts and the lifecycle view when scraped."""

    def __init__(self, metrics: RunnerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        metrics, view = self.metrics, self.metrics.view
        current = view.state
        living = 0.0 if current in FINAL_STATES else metrics.clock() - metrics.entered
        yield _gauge("resync_fsm_state", "1 for the lifecycle's current state, 0 for the others.", ["state"],
                     (((name,), 1 if name == current else 0) for name, _, _ in STATES))
        yield _counter("resync_fsm_state_seconds_total", "Seconds spent in each state, the current visit included.",
                       ["state"], (((name,), metrics.seconds[name] + (living if name == current else 0.0))
                                   for name, _, _ in STATES))
        yield _counter("resync_fsm_transitions_total", "Lifecycle transitions applied.", ["from", "to", "event"],
                       metrics.transitions.items())
        yield _gauge("resync_fsm_exit_info", "Why the lifecycle is leaving serving (1): the state it entered "
                     "(draining, failed) and the signal name, 'request' (API) or the error class.",
                     ["state", "reason"], [(metrics.exit, 1)] if metrics.exit else [])
        info = metrics.build_info()
        yield _gauge("resync_fsm_build_info", "The running build (1).", list(info), [(tuple(info.values()), 1)])
        yield GaugeMetricFamily("resync_fsm_ready", "1 while /readyz answers 200.", value=1 if view.ready()[0] else 0)
        yield GaugeMetricFamily("resync_fsm_start_time_seconds", "When the runner started, seconds since the epoch.",
                                value=view.started_wall)
        expiry = view.certificate_expiry
        yield _gauge("resync_fsm_tls_certificate_expiry_seconds", "When the served TLS certificate (tls.certfile) "
                     "expires, its notAfter in seconds since the epoch; absent without TLS.", [],
                     [((), expiry)] if expiry is not None else [])
        yield _gauge("resync_fsm_probe_up", "1 when the probe's last attempt passed, else 0.", [*_PROBE, "critical"],
                     metrics.probe_up.items())
        yield _counter("resync_fsm_probe_attempts_total", "Probe attempts finished.", _PROBE,
                       metrics.probe_attempts.items())
        yield _counter("resync_fsm_probe_failures_total", "Failed probe attempts by reason code.",
                       [*_PROBE, "reason"], metrics.probe_failures.items())
        yield _histogram("resync_fsm_probe_duration_seconds", "Duration of each probe attempt.", _PROBE,
                         metrics.probe_durations.items())
        requests = metrics.requests()
        yield _counter("resync_fsm_requests_total", "The app's HTTP requests by method and status class ('none': "
                       "no response started), health endpoints apart.", _REQUEST,
                       ((labels, durations.count) for labels, durations in requests))
        yield _histogram("resync_fsm_request_duration_seconds", "Duration of the app's HTTP requests, health "
                         "endpoints apart.", _REQUEST, requests)
        yield _counter("resync_fsm_health_requests_total", "Requests answered by the runner's own endpoints "
                       "(livez, readyz, status, metrics).", ["endpoint"],
                       (((endpoint,), count) for endpoint, count in metrics.health.items()))
        wrapper = metrics.traffic
        yield GaugeMetricFamily("resync_fsm_requests_in_flight", "HTTP requests and websockets the app is handling.",
                                value=wrapper.in_flight if wrapper else 0)
        yield CounterMetricFamily("resync_fsm_requests_cut_total", "Requests and websockets cancelled when the "
                                  "server.graceful_timeout ran out.", value=wrapper.cut if wrapper else 0)
