"""The runner: one trio loop applying events to the lifecycle machine, one module per state.

- :mod:`.core` — the event loop and the control API (:class:`Runner`)
- :mod:`.events` — what travels on its channel (:class:`Event`) and what it is given (load, probe)
- :mod:`.activities` — the registry tying each state of the table to its activity
- :mod:`.validating`, :mod:`.probing`, :mod:`.serving`, :mod:`.draining` — the activities
- :mod:`.signals` — which signal posts which event
- :mod:`.outcome` — the exit code, the failure log event and the one stderr line
"""

from .core import Runner
from .events import Event

__all__ = ["Event", "Runner"]
