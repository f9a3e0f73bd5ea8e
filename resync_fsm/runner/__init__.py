"""The runner: one trio loop applying events to the lifecycle machine, one module per state.

- :mod:`.core` — the event loop and the control API (:class:`Runner`, :class:`Event`)
- :mod:`.activities` — the registry tying each state of the table to its activity
- :mod:`.validating`, :mod:`.probing`, :mod:`.serving`, :mod:`.draining` — the activities
- :mod:`.signals` — which signal posts which event
- :mod:`.outcome` — the exit code, the failure log event and the one stderr line
"""

from .core import Event, Runner

__all__ = ["Event", "Runner"]
