"""What a probe reports: one :class:`ProbeResult` per probe, updated after each attempt, and the
:class:`ProbeBoard` holding the latest of each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ..errors import ProbeFailure
from ..redaction import scrub
from ..settings.model import ProbeSpec

__all__ = ["REASONS", "ProbeBoard", "ProbeFailure", "ProbeResult"]

# Reason codes a failed attempt may carry.
REASONS = (
    "refused",  # the port answered with a reset
    "timeout",  # no answer within the attempt's timeout
    "dns",  # the host name does not resolve
    "unreachable",  # no route, network down
    "network",  # another socket error
    "tls",  # the TLS handshake failed
    "http_status",  # an HTTP status outside expect_status
    "protocol",  # the port answered in another protocol, or garbage
    "auth",  # the server refused our credentials (or wants some)
    "loading",  # the server is up but not ready (Redis LOADING, PostgreSQL starting up)
    "not_configured",  # the probe lacks what it needs
    "cancelled",  # probing stopped before this probe's first attempt ended
)


@attrs.frozen
class ProbeResult:
    """One probe's latest result: status ok|fail|skipped|pending, attempts, latency (ms), reason,
    message (no secrets)."""
    name: str
    kind: str
    target: str  # redacted
    critical: bool
    status: str = "pending"  # pending | ok | fail | skipped
    attempts: int = 0
    latency_ms: float | None = None  # of the last attempt
    reason: str | None = None
    message: str = ""

    @classmethod
    def pending(cls, spec: ProbeSpec) -> ProbeResult:
        """The result before the first attempt ends."""
        return cls(spec.name, spec.kind, spec.target, spec.critical)

    @property
    def ok(self) -> bool:
        """Whether the probe passed."""
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data for ``/status`` and JSON."""
        data = attrs.asdict(self)
        data["message"] = scrub(self.message)
        return data

    def line(self) -> str:
        """One human line: ``tws (tcp tws.internal:31111): failed: refused — ...``."""
        head = f"{self.name} ({self.kind} {self.target})"
        if self.ok:
            return f"{head}: ok in {self.latency_ms:.0f} ms"
        tail = f" after {self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return f"{head}: {self.status}: {self.reason or 'pending'}{tail} — {scrub(self.message)}"


class ProbeBoard:
    """The live result of every probe, shared with ``/status`` and ``check``'s display."""

    def __init__(self, specs: Iterable[ProbeSpec]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.results = {name: ProbeResult.pending(spec) for name, spec in self.specs.items()}
        self.in_progress: dict[str, int] = {}  # probe -> the attempt now running (for live displays)
        self.listeners: list[Callable[[ProbeResult], None]] = []

    def update(self, result: ProbeResult) -> None:
        """Record a probe's new result and tell every listener."""
        self.results[result.name] = result
        for listener in self.listeners:
            listener(result)

    @property
    def settled(self) -> bool:
        """Every critical probe ok, every other one past its first attempt."""
        return all(
            r.ok if r.critical else r.attempts > 0 and r.status != "pending"
            for r in self.results.values()
        )

    @property
    def critical_ok(self) -> bool:
        """Whether every critical probe is ok (readiness, DESIGN §4)."""
        return all(r.ok for r in self.results.values() if r.critical)

    def close_pending(self) -> None:
        """Probing stopped: a probe with no finished attempt is ``skipped``, never missing."""
        for result in list(self.results.values()):
            if result.status == "pending":
                self.update(attrs.evolve(result, status="skipped", reason="cancelled",
                                         message="probing stopped before an attempt finished"))

    def as_list(self) -> list[dict[str, object]]:
        """Every result as plain data, targets redacted, for ``/status`` and ``check --json``."""
        return [r.as_dict() for r in self.results.values()]
