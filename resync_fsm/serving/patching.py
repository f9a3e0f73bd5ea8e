"""How every patch of third-party code is applied: :func:`replace` (one place, for every engine's ``patches``).

A patch wraps an upstream attribute (a method, a module function); the wrapper is
marked ``_resync_fsm`` (so installing twice wraps once) and keeps the upstream
function as ``__wrapped__`` (functools' name), which the patch tests read to check
the upstream shape.
"""

from __future__ import annotations

from typing import Any

__all__ = ["marked", "rebind", "replace"]


def marked(fn: Any, original: Any) -> Any:
    """``fn`` marked as ours, with the upstream function it wraps as ``__wrapped__``."""
    fn._resync_fsm = True
    fn.__wrapped__ = original
    return fn


def replace(owner: object, name: str, wrapper: Any, original: Any) -> None:
    """Set ``owner.name`` (a class or module attribute upstream defines) to ``wrapper``, marked as wrapping
    ``original``. Through ``setattr``: the type checker cannot see a patched attribute, by design."""
    setattr(owner, name, marked(wrapper, original))


def rebind(owner: object, name: str, value: Any) -> None:
    """Set ``owner.name`` to ``value`` (a subclass of the upstream class, already marked ``_resync_fsm``, or
    an instance's method), through ``setattr`` as :func:`replace` does."""
    setattr(owner, name, value)
