"""What travels on the runner's channel (:class:`Event`), and what the runner is given to do its work.

``Load`` returns validated settings (DESIGN §3); ``Probe`` runs the probes of a board
until a deadline (trio clock, seconds; DESIGN §4). Tests hand in fakes of both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from ..lifecycle import EventName
from ..probes import ProbeBoard, probe_board
from ..settings.model import Settings

__all__ = ["Event", "Load", "Probe", "default_probe"]

Load = Callable[[], Awaitable[Settings]]
# probe(board, settings, deadline (trio clock, seconds), until_settled)
Probe = Callable[[ProbeBoard, Settings, float, bool], Awaitable[None]]


@attrs.frozen
class Event:
    """One event for the lifecycle: ``name`` is a trigger of the table (``start``, ``drain``, …).

    ``error`` travels with ``fail`` (and with a ``drain`` caused by a fault while
    serving, which ends ``failed`` after the drain); ``signum`` names the signal
    behind a ``drain``; ``force`` makes a ``drain`` while draining stop at once;
    ``epoch`` is the state visit that posted it (``None``: always current).
    """

    name: EventName = attrs.field(converter=EventName)
    error: BaseException | None = None
    signum: int | None = None
    force: bool = False
    epoch: int | None = None


async def default_probe(board: ProbeBoard, settings: Settings, deadline: float, settle: bool) -> None:
    """The real probes (:func:`resync_fsm.probes.probe_board`)."""
    await probe_board(board, deadline=deadline, until_settled=settle)
