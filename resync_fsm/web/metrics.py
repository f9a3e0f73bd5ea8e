"""Prometheus metrics for one runner: the lifecycle, the probes and the app's requests, counted.

What is counted here is plain numbers in plain dicts, on the loop that serves;
nothing here imports ``prometheus_client``. At the first scrape
:mod:`.prometheus` renders them, through a collector of this runner's own
:class:`~prometheus_client.CollectorRegistry` (never the process-wide one: tests
and embedders run several runners in one process), in the text format
Prometheus scrapes at ``server.metrics_path`` (``/metrics``). That keeps
``prometheus_client`` and the http.server, email and wsgiref modules it imports
out of the start-up (24 ms under ``-X importtime``), and a request's counting to
one dict lookup, one bucket search and two additions, with no lock
(``prometheus_client``'s own Counter and Histogram take a lock per increment: 1.0
µs in process, and Uvicorn's requests/s was 0.80 × bare with them against 0.99
without, when this changed; today's cost is in docs/benchmarks.md "Metrics cost").
This is the custom-collector pattern prometheus_client documents for values an
application already holds.

Names follow Prometheus's conventions (https://prometheus.io/docs/practices/naming/):
the ``resync_fsm_`` prefix, base units (seconds), ``_total`` on counters, and no
label that holds an unbounded value — no path, no client address, no probe target,
no error message. What is labelled: states and events of the transition table,
configured probe names and kinds, reason codes (:data:`~resync_fsm.probes.results.REASONS`),
the standard HTTP methods (anything else is ``other``), status classes, endpoint
roles, signal and error class names. The families are listed in docs/operations.md
"Metrics".
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..lifecycle import STATES, TRANSITIONS, Move, State
from ..probes.results import REASONS, ProbeResult
from ..version import __version__
from .asgi import Scope, Send, send_body
from .view import LifecycleView

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ..probes.results import ProbeBoard

__all__ = ["CONTENT_TYPE", "HTTP_METHODS", "PROBE_BUCKETS", "REQUEST_BUCKETS", "Durations", "RunnerMetrics",
           "Traffic"]

# prometheus_client's CONTENT_TYPE_LATEST (the text format 0.0.4), pinned by tests/test_metrics.py.
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
# RFC 9110 §9 and PATCH (RFC 5789); a client can send any token, which would make the label unbounded.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
# Dependency checks: a loopback answer in a millisecond, a cross-zone TLS handshake in tens,
# the attempt timeout (3 s by default, rarely above 30 s) at the top.
PROBE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# prometheus_client's defaults with a 1 ms bucket in front: an in-process app answers below 5 ms.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FIRST_BOUND = REQUEST_BUCKETS[0]  # most requests in process end below it: no bucket search for them
# a status -> its index in STATUS_CLASSES (request_row(): anything else is "none")
STATUS_INDEX: dict[object, int] = {status: status // 100 for status in range(100, 600)}
STATUS_CLASSES = ("none", "1xx", "2xx", "3xx", "4xx", "5xx")  # indexed by status // 100; 0: no response
HEALTH_ENDPOINTS = ("livez", "readyz", "status", "metrics")


class Durations:
    """One histogram series: durations in seconds, counted into ``bounds`` (upper bounds, ascending).

    ``counts[i]`` holds the observations in ``(bounds[i-1], bounds[i]]`` (Prometheus's
    ``le``), the last one those above every bound (``+Inf``); ``sum`` their total.
    """

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """Count one duration (seconds)."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds

    @property
    def count(self) -> int:
        """Observations so far."""
        return sum(self.counts)


class Traffic(Protocol):
    """What the metrics read of the requests in flight (the health wrapper)."""

    in_flight: int
    cut: int


class RunnerMetrics:
    """The counts of one lifecycle, read from ``view`` (:class:`~.view.LifecycleView`), and its ``/metrics`` endpoint.

    Built once the settings are valid (``server.metrics``); it replays ``history``
    (the transitions made so far) and is then told of each one (:meth:`on_move`, a
    runner listener); the health wrapper that counts requests sets :attr:`traffic`. ``clock``
    (seconds, monotonic) times the state being lived in; finished visits take
    the runner's own ``Move.elapsed``. Every method runs on the loop that serves
    (counting takes no lock); :attr:`registry` is made at the first scrape.
    """

    def __init__(self, view: LifecycleView, *, history: Iterable[Move] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.view = view
        self.traffic: Traffic | None = None
        self.clock = clock
        self.seconds: dict[str, float] = {name: 0.0 for name, _, _ in STATES}
        self.entered = clock()
        self.transitions: dict[tuple[str, str, str], int] = {(s, d, e): 0 for e, s, d, _ in TRANSITIONS}
        self.exit: tuple[str, str] | None = None  # (state, reason) once leaving serving
        self.probe_up: dict[tuple[str, str, str], int] = {}  # (probe, kind, critical) -> 1 | 0
        self.probe_attempts: dict[tuple[str, str], int] = {}
        self.probe_failures: dict[tuple[str, str, str], int] = {}  # (probe, kind, reason)
        self.probe_durations: dict[tuple[str, str], Durations] = {}
        # (method, status class) -> its series, made up front; exported once counted (see requests())
        self._requests = {method: tuple(Durations(REQUEST_BUCKETS) for _ in STATUS_CLASSES)
                          for method in (*sorted(HTTP_METHODS), "other")}
        self._other_method = self._requests["other"]
        self._table: dict[str, dict[int, Durations]] = {}  # see request_table()
        for method in ("GET", "HEAD"):
            self.request_row(method, 0)
        self.health: dict[str, int] = dict.fromkeys(HEALTH_ENDPOINTS, 0)
        self._last_probe: dict[str, ProbeResult] = {}
        self._registry: CollectorRegistry | None = None
        for move in history:
            self.on_move(move)

    # --- lifecycle ----------------------------------------------------------------
    def on_move(self, move: Move) -> None:
        """A transition (a runner listener): count it, add the finished visit's seconds, note exits."""
        key = (move.source, move.dest, move.event)
        self.transitions[key] = self.transitions.get(key, 0) + 1
        self.seconds[move.source] += move.elapsed
        self.entered = self.clock()
        if move.dest in (State.DRAINING, State.FAILED):
            self.exit = (move.dest, self.view.exit_reason(move.dest))

    # --- probes -------------------------------------------------------------------
    def watch_board(self, board: ProbeBoard) -> None:
        """Follow ``board``'s results; every configured probe's series exist from now on."""
        for spec in board.specs.values():
            self.probe_up.setdefault((spec.name, spec.kind, _flag(spec.critical)), 0)
            self.probe_attempts.setdefault((spec.name, spec.kind), 0)
            self.probe_durations.setdefault((spec.name, spec.kind), Durations(PROBE_BUCKETS))
        board.listeners.append(self.on_probe)

    def on_probe(self, result: ProbeResult) -> None:
        """One result (a board listener). The same result object copied to another board counts once."""
        if self._last_probe.get(result.name) is result:
            return
        self._last_probe[result.name] = result
        probe = (result.name, result.kind)
        self.probe_up[(*probe, _flag(result.critical))] = 1 if result.ok else 0
        if result.status not in ("ok", "fail"):  # pending, skipped: no attempt finished
            return
        self.probe_attempts[probe] = self.probe_attempts.get(probe, 0) + 1
        if result.latency_ms is not None:
            self.probe_durations.setdefault(probe, Durations(PROBE_BUCKETS)).observe(result.latency_ms / 1000)
        if result.status == "fail":
            key = (*probe, result.reason if result.reason in REASONS else "other")
            self.probe_failures[key] = self.probe_failures.get(key, 0) + 1

    # --- requests -----------------------------------------------------------------
    def observe_request(self, method: str, status: int, seconds: float) -> None:
        """One app request: ``status`` 0 when no response started; ``seconds`` from call to return.

        A status outside 100–599 counts as ``none``, as no response. The health wrapper does the same
        inline on the serving path (:meth:`request_table`): two indexings, a bucket search only above
        the first bound, no lock.
        """
        row = self.request_row(method, status)
        row.counts[0 if seconds <= FIRST_BOUND else bisect_left(REQUEST_BUCKETS, seconds)] += 1
        row.sum += seconds

    def request_row(self, method: str, status: object) -> Durations:
        """The series of one request: ``method`` (anything not in :data:`HTTP_METHODS` is ``other``) and
        the class of ``status`` (anything not equal to an int in 100–599 is ``none``). A method of
        :data:`HTTP_METHODS` seen for the first time gets its row of :meth:`request_table`."""
        try:
            index = STATUS_INDEX.get(status, 0)
        except TypeError:  # unhashable
            index = 0
        rows = self._requests.get(method, self._other_method)
        if method in HTTP_METHODS and method not in self._table:
            self._table[method] = {code: rows[STATUS_INDEX.get(code, 0)] for code in (0, *range(100, 600))}
        return rows[index]

    def request_table(self) -> dict[str, dict[int, Durations]]:
        """The series by method and status, for the health wrapper to count inline on the serving path:
        ``table[method][status]`` is :meth:`request_row`'s answer for status 0 or 100–599 and every method
        of :data:`HTTP_METHODS` seen so far (the table fills as they come: GET's and HEAD's from the start);
        any other method or status raises KeyError (or TypeError), and :meth:`request_row` answers."""
        return self._table

    def requests(self) -> list[tuple[tuple[str, str], Durations]]:
        """((method, status class), series) for each pair counted so far."""
        return [((method, status_class), row) for method, rows in self._requests.items()
                for status_class, row in zip(STATUS_CLASSES, rows, strict=True) if row.count]

    # --- exposition ---------------------------------------------------------------
    @property
    def registry(self) -> CollectorRegistry:
        """This runner's registry (``prometheus_client``), made and imported at the first use."""
        if self._registry is None:
            from .prometheus import registry_of

            self._registry = registry_of(self)
        return self._registry

    def render(self) -> bytes:
        """The registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    async def serve(self, scope: Scope, send: Send) -> None:
        """The ``/metrics`` endpoint (a health-wrapper route)."""
        await send_body(send, 200, CONTENT_TYPE, self.render())

    def build_info(self) -> dict[str, str]:
        """The labels of ``resync_fsm_build_info``: version, loop, engine, ``engine_choice`` and
        ``loop_choice`` (``auto``: the default, resolved at validation; ``explicit``: a source set it;
        the reason itself is in ``/status``: a label holds no path), python."""
        import platform

        choice = self.view.choice
        return {"version": __version__, "loop": self.view.loop_name, "engine": choice["engine"],
                "engine_choice": _chosen(choice["engine_source"]), "loop_choice": _chosen(choice["loop_source"]),
                "python": platform.python_version()}


def _chosen(source: str) -> str:
    return "auto" if source.startswith("auto: ") else "explicit" if source else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"

