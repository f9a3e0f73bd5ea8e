"""Settings that are valid but likely wrong: the warnings ``run`` logs and ``check`` shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Settings

__all__ = ["warnings"]


def warnings(settings: Settings) -> list[str]:
    """One sentence per problem: overridden invalid values, a drain budget above the grace period,
    reload in production."""
    out = list(settings.notes)
    server = settings.server
    budget = server.drain_delay + server.graceful_timeout + server.shutdown_timeout
    assumed = (" (Kubernetes' default, assumed: set server.termination_grace to the pod's "
               "terminationGracePeriodSeconds)"
               if "KUBERNETES" in settings.sources.get("server.termination_grace", "") else "")
    if server.termination_grace is not None and budget > server.termination_grace:
        out.append(
            f"drain_delay + graceful_timeout + shutdown_timeout = {budget:g} s exceeds "
            f"termination_grace = {server.termination_grace:g} s{assumed}: the orchestrator would kill "
            "the process mid-drain; raise its grace period or lower these"
        )
    if server.reload and settings.resync.environment == "production":
        out.append("server.reload is on with ENVIRONMENT=production: reload is for development "
                   "(it watches files and re-imports the app); turn it off in production")
    return out
