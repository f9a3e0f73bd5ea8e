"""The validated settings: frozen attrs classes whose defaults and parsing come from the table.

Each class declares its attributes with their types (for readers and for
``mypy --strict``); everything else — the default, the parser, whether the
value is secret — comes from :data:`~resync_fsm.settings.fields.FIELDS` by the
attribute's name, so nothing is spelled twice (DESIGN §3). Construction parses
every argument with its field's parser (an attrs converter)::

    ServerSettings(graceful_timeout="7").graceful_timeout == 7.0
    ServerSettings(graceful_timeout="soon")  # ValueError: server.graceful_timeout: expected ...

:func:`~resync_fsm.settings.loader.load_settings` reports every problem at
once instead, then builds these classes from values it already parsed (see
:class:`Parsed`), so each value is parsed exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..redaction import redact_url
from .derive import CROSS_FIELD, Parsed, field_error, from_table, section_fields, server_conflicts, shown
from .derive import table as _table
from .fields import FIELDS, PROBE_FIELDS, SECTIONS

__all__ = [
    "AccessLogSettings",
    "LogSettings",
    "Parsed",
    "ProbeSpec",
    "ResyncSettings",
    "SECTIONS",
    "ServerSettings",
    "Settings",
    "StartupSettings",
    "TLSSettings",
    "field_error",
    "section_class",
    "server_conflicts",
]


@attrs.frozen(field_transformer=section_fields("server"))
class ServerSettings:
    """``[server]``: what to serve, where, and the drain timings (seconds, floats)."""

    app: str = attrs.field(default=None, converter=_table)
    factory: bool = attrs.field(default=None, converter=_table)
    bind: tuple[str, ...] = attrs.field(default=None, converter=_table)
    loop: str = attrs.field(default=None, converter=_table)
    engine: str = attrs.field(default=None, converter=_table)
    workers: int = attrs.field(default=None, converter=_table)
    crash_loop_deaths: int = attrs.field(default=None, converter=_table)
    crash_loop_seconds: float = attrs.field(default=None, converter=_table)
    worker_heartbeat_timeout: float = attrs.field(default=None, converter=_table)
    max_requests: int = attrs.field(default=None, converter=_table)
    max_requests_jitter: int = attrs.field(default=None, converter=_table)
    graceful_timeout: float = attrs.field(default=None, converter=_table)
    drain_delay: float = attrs.field(default=None, converter=_table)
    shutdown_timeout: float = attrs.field(default=None, converter=_table)
    watch_interval: float = attrs.field(default=None, converter=_table)
    termination_grace: float | None = attrs.field(default=None, converter=_table)
    management_bind: tuple[str, ...] = attrs.field(default=None, converter=_table)
    expose_status: bool | None = attrs.field(default=None, converter=_table)
    livez_path: str = attrs.field(default=None, converter=_table)
    readyz_path: str = attrs.field(default=None, converter=_table)
    status_path: str = attrs.field(default=None, converter=_table)
    metrics: bool = attrs.field(default=None, converter=_table)
    metrics_path: str = attrs.field(default=None, converter=_table)
    app_dir: str = attrs.field(default=None, converter=_table)
    lifespan: str = attrs.field(default=None, converter=_table)
    startup_timeout: float = attrs.field(default=None, converter=_table)
    forwarded_allow_ips: tuple[str, ...] = attrs.field(default=None, converter=_table)
    root_path: str = attrs.field(default=None, converter=_table)
    keep_alive_timeout: float = attrs.field(default=None, converter=_table)
    backlog: int = attrs.field(default=None, converter=_table)
    limit_concurrency: int | None = attrs.field(default=None, converter=_table)
    max_header_size: int = attrs.field(default=None, converter=_table)
    max_body_size: int | None = attrs.field(default=None, converter=_table)
    lingering_time: float = attrs.field(default=None, converter=_table)
    lingering_timeout: float = attrs.field(default=None, converter=_table)
    lingering_size: int = attrs.field(default=None, converter=_table)
    websocket_ping_interval: float = attrs.field(default=None, converter=_table)
    server_header: bool = attrs.field(default=None, converter=_table)
    h2c: bool = attrs.field(default=None, converter=_table)
    unix_socket_mode: int | None = attrs.field(default=None, converter=_table)
    unix_socket_owner: tuple[int, int] | None = attrs.field(default=None, converter=_table)

    def __attrs_post_init__(self) -> None:
        """Health paths must differ, and so on (the loader reports these as problems instead)."""
        values = {key: getattr(self, key.split(".", 1)[1]) for key in CROSS_FIELD}
        for keys, message in server_conflicts(values):
            raise ValueError(f"{' and '.join(keys)}: {message}")


@attrs.frozen(field_transformer=section_fields("startup"))
class StartupSettings:
    """``[startup]``: the deadline for all probes (seconds) and whether missing it fails."""

    fail_fast: bool = attrs.field(default=None, converter=_table)
    timeout: float = attrs.field(default=None, converter=_table)


@attrs.frozen(field_transformer=section_fields("log"))
class LogSettings:
    """``[log]``: level (debug … critical, lower case) and format (auto, console, json)."""

    level: str = attrs.field(default=None, converter=_table)
    format: str = attrs.field(default=None, converter=_table)


@attrs.frozen(field_transformer=section_fields("tls"))
class TLSSettings:
    """``[tls]``: PEM file paths, the TLS 1.2 cipher list and the client-certificate mode (none,
    optional, required). Certificate and key are checked to match (the loader reports it instead)."""

    certfile: str | None = attrs.field(default=None, converter=_table)
    keyfile: str | None = attrs.field(default=None, converter=_table)
    ca_certs: str | None = attrs.field(default=None, converter=_table)
    ciphers: str = attrs.field(default=None, converter=_table)
    client_cert: str = attrs.field(default=None, converter=_table)

    def __attrs_post_init__(self) -> None:
        from .surface import tls_problems

        for key, message in tls_problems({f"tls.{a.name}": getattr(self, a.name) for a in attrs.fields(TLSSettings)}):
            raise ValueError(f"{key}: {message}")

    @property
    def enabled(self) -> bool:
        """Whether the binds serve TLS (both certfile and keyfile given)."""
        return self.certfile is not None and self.keyfile is not None


@attrs.frozen(field_transformer=section_fields("access_log"))
class AccessLogSettings:
    """``[access_log]``: one ``access`` event per request when ``enabled``; health endpoints with ``health``."""

    enabled: bool = attrs.field(default=None, converter=_table)
    health: bool = attrs.field(default=None, converter=_table)


@attrs.frozen(field_transformer=section_fields("resync"))
class ResyncSettings:
    """Resync's own variables (DESIGN §3); secrets are left out of ``repr``, URLs shown masked."""

    environment: str = attrs.field(default=None, converter=_table)
    server_host: str | None = attrs.field(default=None, converter=_table)
    server_port: int | None = attrs.field(default=None, converter=_table)
    redis_url: str | None = attrs.field(default=None, converter=_table)
    tws_host: str | None = attrs.field(default=None, converter=_table)
    tws_port: int | None = attrs.field(default=None, converter=_table)
    tws_user: str | None = attrs.field(default=None, converter=_table)
    tws_password: str | None = attrs.field(default=None, converter=_table)
    llm_endpoint: str | None = attrs.field(default=None, converter=_table)
    llm_api_key: str | None = attrs.field(default=None, converter=_table)
    admin_username: str | None = attrs.field(default=None, converter=_table)
    admin_password: str | None = attrs.field(default=None, converter=_table)
    secret_key: str | None = attrs.field(default=None, converter=_table)
    require_tws_at_boot: bool = attrs.field(default=None, converter=_table)
    require_llm_at_boot: bool = attrs.field(default=None, converter=_table)


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


def _probe_tuple(probes: Iterable[ProbeSpec]) -> tuple[ProbeSpec, ...]:
    return tuple(probes)


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)


@attrs.frozen
class Settings:
    """Every setting: one attribute per section in :data:`SECTIONS`, the probes, and where each value came from.

    ``sources`` maps a field path to its origin (``"env SERVER_PORT"``,
    ``"default"``, ``"/etc/app.toml [server.bind]"``); it takes no part in equality.
    """

    server: ServerSettings = attrs.field(factory=ServerSettings)
    startup: StartupSettings = attrs.field(factory=StartupSettings)
    log: LogSettings = attrs.field(factory=LogSettings)
    tls: TLSSettings = attrs.field(factory=TLSSettings)
    access_log: AccessLogSettings = attrs.field(factory=AccessLogSettings)
    resync: ResyncSettings = attrs.field(factory=ResyncSettings)
    probes: tuple[ProbeSpec, ...] = attrs.field(default=(), converter=_probe_tuple)
    # where each value came from: "server.bind" -> "env:SERVER_PORT", ...
    sources: dict[str, str] = attrs.field(factory=dict, eq=False, repr=False)
    # valid but worth a warning, found while loading: "ignored: SERVER_PORT: ...; overridden by --bind"
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings, eq=False, repr=False)

    def warnings(self) -> list[str]:
        """Settings that are valid but likely wrong, one sentence each, for the runner to log as warnings."""
        out = list(self.notes)
        server = self.server
        budget = server.drain_delay + server.graceful_timeout + server.shutdown_timeout
        if server.termination_grace is not None and budget > server.termination_grace:
            out.append(
                f"drain_delay + graceful_timeout + shutdown_timeout = {budget:g} s exceeds "
                f"termination_grace = {server.termination_grace:g} s: the orchestrator would kill "
                "the process mid-drain; raise its grace period or lower these"
            )
        return out

    def redacted(self) -> dict[str, Any]:
        """Every setting as plain JSON-able data, secrets masked: for ``config`` and ``/status``.

        ``{"server": {...}, "startup": {...}, "log": {...}, "resync": {...},
        "probes": [{"name", "kind", "target", "critical", "timeout"}, ...]}``;
        a secret field shows ``"***"``, a URL field its userinfo masked.
        """
        out: dict[str, Any] = {}
        for name in SECTIONS:
            section = getattr(self, name)
            out[name] = {
                a.name: shown(_BY_PATH[f"{name}.{a.name}"], getattr(section, a.name))
                for a in attrs.fields(type(section))
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


_BY_PATH = {f.path: f for f in FIELDS}
_CLASSES: dict[str, type] = {name: type(getattr(Settings(), name)) for name in SECTIONS}


def section_class(name: str) -> Any:
    """The attrs class of the section ``name`` in :data:`SECTIONS` (``"server"`` → :class:`ServerSettings`)."""
    return _CLASSES[name]
