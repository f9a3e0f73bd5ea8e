"""One setting of the table (:class:`Field`) and the helpers the table is written with."""

from __future__ import annotations

from typing import Any

import attrs

from . import parsers as p

__all__ = ["ENV_PREFIX", "POSITIVE_SECONDS", "RESYNC_PREFIX", "SECONDS", "Field", "setting"]

ENV_PREFIX = "RESYNC_FSM_"
RESYNC_PREFIX = "APP_"


@attrs.frozen
class Field:
    """One setting (DESIGN §3): where it lives, how it parses, its default and its names.

    ``parse`` turns a TOML value or an environment/flag string into the typed
    value, raising :class:`~resync_fsm.errors.Invalid`; ``default`` is already
    in that typed form (``None``: unset). ``required`` marks a key with no
    default that must be given (a probe's ``name`` and ``kind``).
    """

    section: str
    key: str
    parse: p.Parser
    default: Any
    help: str
    flag: str | None = None  # the long option, when there is one
    flag_negative: bool = False  # the flag sets False (--no-fail-fast)
    repeatable: bool = False  # the flag may be given several times (--bind)
    resync_env: tuple[str, ...] = ()  # Resync's names, also accepted with APP_
    own_env: bool = True  # RESYNC_FSM_<SECTION>_<KEY> is read
    secret: bool = False  # never shown: masked in every output
    url: bool = False  # shown with its userinfo masked
    required: bool = False  # no default: must be given (only for [[probes]] keys)

    @property
    def path(self) -> str:
        """``section.key``, the TOML spelling: ``"server.drain_delay"``."""
        return f"{self.section}.{self.key}"

    @property
    def env_names(self) -> tuple[str, ...]:
        """Environment names, highest precedence first: ``RESYNC_FSM_<SECTION>_<KEY>``
        (when ``own_env``), then each Resync name with ``APP_``, then bare (DESIGN §3)."""
        own = (f"{ENV_PREFIX}{self.section}_{self.key}".upper(),) if self.own_env else ()
        resync = tuple(n for name in self.resync_env for n in (RESYNC_PREFIX + name, name))
        return own + resync


def setting(section: str, key: str, parse: p.Parser, default: Any, help: str, **kw: Any) -> Field:
    """One row of the table: :class:`Field` with its section, key, parser, default and help first."""
    return Field(section, key, parse, default, help, **kw)


SECONDS = p.number(minimum=0.0)
POSITIVE_SECONDS = p.number(minimum=0.0, above=True)
