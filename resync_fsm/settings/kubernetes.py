"""Under Kubernetes, ``server.termination_grace`` is assumed to be the kubelet's default grace period.

The kubelet sets ``KUBERNETES_SERVICE_HOST`` in every container; when it is set and
``termination_grace`` is given nowhere, the grace period is taken to be Kubernetes'
default ``terminationGracePeriodSeconds`` (30 s), so that the drain-budget warning
(:meth:`~resync_fsm.settings.model.Settings.warnings`) fires there without configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .sources import Raw

__all__ = ["DEFAULT_GRACE", "default_grace"]

DEFAULT_GRACE = 30.0  # terminationGracePeriodSeconds when a pod spec does not set it


def default_grace(values: dict[str, Any], picked: dict[str, Raw], environ: Mapping[str, str]) -> None:
    """Set ``server.termination_grace`` to :data:`DEFAULT_GRACE` under Kubernetes when it was not given."""
    if not environ.get("KUBERNETES_SERVICE_HOST") or picked["server.termination_grace"].source != "default":
        return
    values["server.termination_grace"] = DEFAULT_GRACE
    picked["server.termination_grace"] = Raw(DEFAULT_GRACE, "env", "KUBERNETES_SERVICE_HOST (Kubernetes' default)")
