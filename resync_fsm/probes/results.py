"""What a probe reports: one :class:`ProbeResult` per probe, updated after each attempt."""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import ProbeFailure
from ..redaction import scrub
from ..settings.model import ProbeSpec

__all__ = ["REASONS", "ProbeFailure", "ProbeResult"]

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
