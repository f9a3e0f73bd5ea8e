"""The validated settings: frozen attrs classes whose defaults and parsing come from the table.

Each class declares its attributes with their types (for readers and for ``mypy --strict``); the
default, the parser, whether the value is secret come from :data:`~resync_fsm.settings.fields.FIELDS`
by the attribute's name, so nothing is spelled twice (DESIGN §3). Construction parses every argument
with its field's parser (an attrs converter)::

    ServerSettings(graceful_timeout="7").graceful_timeout == 7.0
    ServerSettings(graceful_timeout="soon")  # ValueError: server.graceful_timeout: expected ...

:func:`~resync_fsm.settings.loader.load_settings` reports every problem at once instead, then builds
these classes from values it already parsed (:class:`Parsed`): each value is parsed exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from .auto import resolve as resolve_auto
from .conflicts import CROSS_FIELD, server_conflicts
from .fields import FIELDS, SECTIONS
from .probe_spec import ProbeSpec
from .table_fields import Parsed, field_error, section_fields, shown
from .table_fields import table as _table

__all__ = ["AccessLogSettings", "LogSettings", "Parsed", "ProbeSpec", "ResyncSettings", "SECTIONS", "ServerSettings",
           "Settings", "StartupSettings", "TLSSettings", "field_error", "section_class", "server_conflicts"]


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
    reload: bool = attrs.field(default=None, converter=_table)
    reload_dirs: tuple[str, ...] = attrs.field(default=None, converter=_table)
    reload_includes: tuple[str, ...] = attrs.field(default=None, converter=_table)
    reload_excludes: tuple[str, ...] = attrs.field(default=None, converter=_table)
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
    ws_max_size: int = attrs.field(default=None, converter=_table)
    server_header: bool = attrs.field(default=None, converter=_table)
    h2c: bool = attrs.field(default=None, converter=_table)
    unix_socket_mode: int | None = attrs.field(default=None, converter=_table)
    unix_socket_owner: tuple[int, int] | None = attrs.field(default=None, converter=_table)

    def __attrs_post_init__(self) -> None:
        """``auto`` loop and engine resolved (as the loader does, TLS aside: :mod:`.auto`); health paths
        must differ, and so on (the loader reports these as problems instead)."""
        values = {key: getattr(self, key.split(".", 1)[1]) for key in CROSS_FIELD}
        values["server.h2c"] = self.h2c
        for path in resolve_auto(values):
            object.__setattr__(self, path.split(".", 1)[1], values[path])  # frozen: set once, here
        for keys, message in server_conflicts(values):
            raise ValueError(f"{' and '.join(keys)}: {message}")


@attrs.frozen(field_transformer=section_fields("startup"))
class StartupSettings:
    """``[startup]``: the deadline for all probes (seconds) and whether missing it fails."""

    fail_fast: bool = attrs.field(default=None, converter=_table)
    timeout: float = attrs.field(default=None, converter=_table)


@attrs.frozen(field_transformer=section_fields("log"))
class LogSettings:
    """``[log]``: level (debug … critical, lower case), format (auto, console, json) and the user's config file."""

    level: str = attrs.field(default=None, converter=_table)
    format: str = attrs.field(default=None, converter=_table)
    config: str | None = attrs.field(default=None, converter=_table)


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
        from .tls import tls_problems

        for key, message in tls_problems({f"tls.{a.name}": getattr(self, a.name) for a in attrs.fields(TLSSettings)}):
            raise ValueError(f"{key}: {message}")

    @property
    def enabled(self) -> bool:
        """Whether the binds serve TLS (both certfile and keyfile given)."""
        return self.certfile is not None and self.keyfile is not None

    @property
    def not_after(self) -> float | None:
        """When the served certificate expires (notAfter, seconds since the epoch); ``None`` without TLS."""
        from .tls import certificate_dates

        dates = certificate_dates(self.certfile) if self.enabled and self.certfile else None
        return dates[1] if dates else None


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
        from .advice import warnings

        return warnings(self)

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
