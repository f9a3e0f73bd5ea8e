"""What ``web/`` reads of a lifecycle: two small protocols, handed to it (web imports no runner).

:class:`HealthView` is what the health endpoints answer from (the runner's
view in-process, the supervisor's last word in a worker process);
:class:`LifecycleView` is what the metrics read at scrape time besides their own
counts. tests/fakes.py has a stand-in for each, so ``web/`` is tested with no
runner.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["HealthView", "LifecycleView"]


class HealthView(Protocol):
    """What the endpoints read; the runner provides it."""

    def live(self) -> tuple[bool, str]:
        """(live, state): false only once the lifecycle failed."""
        ...

    def ready(self) -> tuple[bool, str]:
        """(ready, state): true only while serving with every critical probe ok."""
        ...

    def status(self) -> dict[str, Any]:
        """The ``/status`` document (JSON-ready, nothing secret)."""
        ...


class LifecycleView(HealthView, Protocol):
    """A :class:`HealthView` that also says what ``/metrics`` reports of the lifecycle."""

    @property
    def state(self) -> str:
        """The current state's name."""
        ...

    @property
    def loop_name(self) -> str:
        """The app's loop (``asyncio``, ``uvloop``, ``trio``)."""
        ...

    @property
    def choice(self) -> dict[str, str]:
        """The engine and loop serving the app and where each came from: ``{"engine": "uvicorn",
        "engine_source": "auto: ...", "loop": "uvloop", "loop_source": "auto: ..."}`` (a source starting
        ``auto:`` is a default resolved at validation; empty strings before the settings are valid)."""
        ...

    @property
    def started_wall(self) -> float:
        """When the lifecycle started, seconds since the epoch."""
        ...

    @property
    def certificate_expiry(self) -> float | None:
        """When the served TLS certificate expires (notAfter), seconds since the epoch; ``None`` without TLS."""
        ...

    def exit_reason(self, dest: str) -> str:
        """Why the lifecycle entered ``dest`` (``draining`` or ``failed``): the signal name,
        ``request`` (the API), or the error's class name."""
        ...
