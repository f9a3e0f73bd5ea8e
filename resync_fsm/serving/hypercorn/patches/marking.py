"""How a patch marks what it wrapped: ``_resync_fsm`` (so installing twice wraps once) and ``__wrapped__``
(the upstream function, functools' name), which the patch tests read."""

from __future__ import annotations

from typing import Any

__all__ = ["marked"]


def marked(fn: Any, original: Any) -> Any:
    """``fn`` marked as ours, with the upstream function it wraps as ``__wrapped__`` (functools' name)."""
    fn._resync_fsm = True
    fn.__wrapped__ = original
    return fn
