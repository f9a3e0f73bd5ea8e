"""The validated settings: frozen attrs classes whose defaults and checks come from the table.

Built by :mod:`resync_fsm.settings.loader`, which reports every problem at
once; constructing one directly (embedding from Python) runs the same
parsers as validators.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..redaction import MASK, redact_url
from .fields import PROBE_FIELDS, field
from .parsers import Invalid

__all__ = [
    "LogSettings",
    "ProbeSpec",
    "ResyncSettings",
    "ServerSettings",
    "Settings",
    "StartupSettings",
]

_PROBE = {f.key: f for f in PROBE_FIELDS}


def _check(path: str) -> Any:
    spec = field(path) if not path.startswith("probes.") else _PROBE[path.split(".", 1)[1]]

    def validate(_inst: Any, _attr: Any, value: Any) -> None:
        if value is None and spec.default is None:
            return
        try:
            spec.parse(value)
        except Invalid as exc:
            raise ValueError(f"{path}: expected {exc.expected}") from None

    return validate


def _url_repr(value: str | None) -> str:
    return repr(redact_url(value) if value else value)


def _setting(path: str) -> Any:
    default = field(path).default
    return attrs.field(default=default, validator=_check(path))


@attrs.frozen
class ServerSettings:
    app: str = _setting("server.app")
    factory: bool = _setting("server.factory")
    bind: tuple[str, ...] = attrs.field(
        default=field("server.bind").default, converter=tuple, validator=_check("server.bind")
    )
    loop: str = _setting("server.loop")
    graceful_timeout: float = _setting("server.graceful_timeout")
    drain_delay: float = _setting("server.drain_delay")
    shutdown_timeout: float = _setting("server.shutdown_timeout")
    watch_interval: float = _setting("server.watch_interval")
    termination_grace: float | None = _setting("server.termination_grace")
    livez_path: str = _setting("server.livez_path")
    readyz_path: str = _setting("server.readyz_path")
    status_path: str = _setting("server.status_path")


@attrs.frozen
class StartupSettings:
    fail_fast: bool = _setting("startup.fail_fast")
    timeout: float = _setting("startup.timeout")


@attrs.frozen
class LogSettings:
    level: str = _setting("log.level")
    format: str = _setting("log.format")


@attrs.frozen
class ResyncSettings:
    environment: str = _setting("resync.environment")
    server_host: str | None = _setting("resync.server_host")
    server_port: int | None = _setting("resync.server_port")
    redis_url: str | None = attrs.field(
        default=None, repr=_url_repr, validator=_check("resync.redis_url")
    )
    tws_host: str | None = _setting("resync.tws_host")
    tws_port: int | None = _setting("resync.tws_port")
    tws_user: str | None = _setting("resync.tws_user")
    tws_password: str | None = attrs.field(default=None, repr=False)
    llm_endpoint: str | None = attrs.field(
        default=None, repr=_url_repr, validator=_check("resync.llm_endpoint")
    )
    llm_api_key: str | None = attrs.field(default=None, repr=False)
    admin_username: str | None = _setting("resync.admin_username")
    admin_password: str | None = attrs.field(default=None, repr=False)
    secret_key: str | None = attrs.field(default=None, repr=False)
    require_tws_at_boot: bool = _setting("resync.require_tws_at_boot")
    require_llm_at_boot: bool = _setting("resync.require_llm_at_boot")


def _probe(key: str) -> Any:
    return attrs.field(default=_PROBE[key].default, validator=_check(f"probes.{key}"))


@attrs.frozen
class ProbeSpec:
    """One dependency to probe before serving."""

    name: str = attrs.field(validator=_check("probes.name"))
    kind: str = attrs.field(validator=_check("probes.kind"))
    host: str | None = _probe("host")
    port: int | None = _probe("port")
    url: str | None = attrs.field(default=None, repr=False)
    critical: bool = _probe("critical")
    timeout: float = _probe("timeout")
    expect_status: tuple[tuple[int, int], ...] = _PROBE["expect_status"].default

    @property
    def target(self) -> str:
        """Where the probe goes, safe to show (URL userinfo masked)."""
        if self.url:
            return redact_url(self.url)
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"

    def status_ok(self, status: int) -> bool:
        return any(lo <= status <= hi for lo, hi in self.expect_status)


def _probe_tuple(probes: Iterable[ProbeSpec]) -> tuple[ProbeSpec, ...]:
    return tuple(probes)


@attrs.frozen
class Settings:
    server: ServerSettings = attrs.field(factory=ServerSettings)
    startup: StartupSettings = attrs.field(factory=StartupSettings)
    log: LogSettings = attrs.field(factory=LogSettings)
    resync: ResyncSettings = attrs.field(factory=ResyncSettings)
    probes: tuple[ProbeSpec, ...] = attrs.field(default=(), converter=_probe_tuple)
    # where each value came from: "server.bind" -> "env:SERVER_PORT", ...
    sources: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def warnings(self) -> list[str]:
        """Settings that are valid but likely wrong, for a warning at validation."""
        server = self.server
        budget = server.drain_delay + server.graceful_timeout + server.shutdown_timeout
        if server.termination_grace is not None and budget > server.termination_grace:
            return [
                f"drain_delay + graceful_timeout + shutdown_timeout = {budget:g} s exceeds "
                f"termination_grace = {server.termination_grace:g} s: the orchestrator would kill "
                "the process mid-drain; raise its grace period or lower these"
            ]
        return []

    def redacted(self) -> dict[str, Any]:
        """Every setting as plain data, secrets masked: for ``config`` and ``/status``."""
        out: dict[str, Any] = {}
        for name in ("server", "startup", "log", "resync"):
            section = getattr(self, name)
            out[name] = {
                key: _shown(field(f"{name}.{key}"), value)
                for key, value in attrs.asdict(section).items()
            }
        out["probes"] = [
            {
                "name": probe.name,
                "kind": probe.kind,
                "target": probe.target,
                "critical": probe.critical,
                "timeout": probe.timeout,
            }
            for probe in self.probes
        ]
        return out


def _shown(spec: Any, value: Any) -> Any:
    if value is None:
        return None
    if spec.secret:
        return MASK
    if spec.url:
        return redact_url(value)
    return list(value) if isinstance(value, tuple) else value
