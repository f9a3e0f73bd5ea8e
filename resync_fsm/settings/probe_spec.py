"""One ``[[probes]]`` table as its validated settings: :class:`ProbeSpec` (DESIGN §4)."""

from __future__ import annotations

import attrs

from ..redaction import redact_url
from .fields import PROBE_FIELDS
from .table_fields import from_table
from .table_fields import table as _table

__all__ = ["ProbeSpec"]


@attrs.frozen(field_transformer=from_table(PROBE_FIELDS))
class ProbeSpec:
    """One dependency to probe before serving (DESIGN §4); ``name`` and ``kind`` are required.

    ``timeout`` is seconds per attempt; ``expect_status`` is a tuple of inclusive
    ``(low, high)`` status ranges. Which keys a kind needs (tcp: host and port;
    http and redis: url) is checked by the loader, not here.
    """

    name: str = attrs.field(converter=_table)
    kind: str = attrs.field(converter=_table)
    host: str | None = attrs.field(default=None, converter=_table)
    port: int | None = attrs.field(default=None, converter=_table)
    url: str | None = attrs.field(default=None, converter=_table)
    critical: bool = attrs.field(default=None, converter=_table)
    timeout: float = attrs.field(default=None, converter=_table)
    expect_status: tuple[tuple[int, int], ...] = attrs.field(default=None, converter=_table)

    @property
    def target(self) -> str:
        """Where the probe goes, safe to show: the URL with userinfo masked, else ``host:port``."""
        if self.url:
            return redact_url(self.url)
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"

    def status_ok(self, status: int) -> bool:
        """Whether an HTTP ``status`` falls in one of the ``expect_status`` ranges."""
        return any(lo <= status <= hi for lo, hi in self.expect_status)
