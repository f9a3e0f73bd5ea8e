"""The one table of settings: every TOML key, environment variable and flag comes from here.

Each :class:`Field` names its section and key (the TOML spelling); the
environment name (``RESYNC_FSM_<SECTION>_<KEY>``), the flag, Resync's own
variable names (bare and ``APP_``-prefixed) and the documentation are all
derived from it, so no name is spelled twice.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import parsers as p

__all__ = ["FIELDS", "PROBE_FIELDS", "SECTIONS", "Field", "field"]

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


def _f(section: str, key: str, parse: p.Parser, default: Any, help: str, **kw: Any) -> Field:
    return Field(section, key, parse, default, help, **kw)


_seconds = p.number(minimum=0.0)
_positive_seconds = p.number(minimum=0.0, above=True)

FIELDS: tuple[Field, ...] = (
    # [server]
    _f("server", "app", p.app_ref, "resync_fsm.app:app",
       "The ASGI 3 app to serve, as module:attribute.", flag="--app"),
    _f("server", "factory", p.boolean, False,
       "Call the app attribute with no arguments to get the app.", flag="--factory"),
    _f("server", "bind", p.string_list(p.bind_address), ("127.0.0.1:8000",),
       "Addresses to listen on (host:port, [::1]:port, unix:/path). Resync's "
       "SERVER_HOST and SERVER_PORT set one bind address when this is not set.",
       flag="--bind", repeatable=True),
    _f("server", "loop", p.loop_name, "asyncio",
       "The event loop the app runs on: asyncio (the ecosystem's default, as in Uvicorn and "
       "Hypercorn), uvloop (pip install 'resync_fsm[uvloop]') or trio. The lifecycle itself "
       "always runs on trio.", flag="--loop"),
    _f("server", "engine", p.engine_name, "hypercorn",
       "The HTTP server: hypercorn (any loop, HTTP/2) or uvicorn (asyncio or uvloop only, "
       "faster; pip install 'resync_fsm[uvicorn]').", flag="--engine"),
    _f("server", "graceful_timeout", _seconds, 25.0,
       "Seconds in-flight requests get to finish once the listener closes (0: cut them at once).",
       flag="--graceful-timeout"),
    _f("server", "drain_delay", _seconds, 0.0,
       "Seconds /readyz answers 503 while the listener still serves, before it closes.",
       flag="--drain-delay"),
    _f("server", "shutdown_timeout", _positive_seconds, 10.0,
       "Seconds the app's lifespan shutdown may take (above 0: with 0 every stop would time out)."),
    _f("server", "watch_interval", _seconds, 0.0,
       "While serving, re-run the critical probes every this many seconds (0: off); "
       "a failure turns readiness false, never liveness, until they pass."),
    _f("server", "termination_grace", _seconds, None,
       "The orchestrator's grace period before it kills the process (Kubernetes: "
       "terminationGracePeriodSeconds, 30 by default); a warning at validation when "
       "drain_delay + graceful_timeout + shutdown_timeout exceed it."),
    _f("server", "livez_path", p.url_path, "/livez", "Liveness endpoint (200 unless failed)."),
    _f("server", "readyz_path", p.url_path, "/readyz",
       "Readiness endpoint (200 only while serving)."),
    _f("server", "status_path", p.url_path, "/status", "Status endpoint (JSON, nothing secret)."),
    # [startup]
    _f("startup", "fail_fast", p.boolean, True,
       "Fail when a critical probe does not pass by the deadline; when false, "
       "serve with readiness false while the probes keep retrying.",
       flag="--no-fail-fast", flag_negative=True),
    _f("startup", "timeout", _positive_seconds, 30.0,
       "The startup deadline, in seconds, for all probes together.",
       flag="--startup-timeout"),
    # [log]
    _f("log", "level", p.choice("debug", "info", "warning", "error", "critical"), "info",
       "Log level.", flag="--log-level", resync_env=("LOG_LEVEL",)),
    _f("log", "format", p.choice("auto", "console", "json"), "auto",
       "console (readable), json, or auto: console on a TTY, json otherwise.",
       flag="--log-format"),
    # [resync] — Resync's own settings; its variable names keep working.
    _f("resync", "environment", p.choice("development", "test", "production"), "development",
       "Resync's environment; production makes the security settings required and strict.",
       resync_env=("ENVIRONMENT",), own_env=False),
    _f("resync", "server_host", p.text(), None,
       "Resync's bind host (used when server.bind is not set).",
       resync_env=("SERVER_HOST",), own_env=False),
    _f("resync", "server_port", p.service_port(0, 65535), None,
       "Resync's bind port (used when server.bind is not set); Kubernetes' "
       "service-link form tcp://host:port gives its port.",
       resync_env=("SERVER_PORT",), own_env=False),
    _f("resync", "redis_url", p.url("redis", "rediss"), None,
       "Redis URL; when set, a critical `redis` probe.",
       resync_env=("REDIS_URL",), own_env=False, url=True),
    _f("resync", "tws_host", p.text(), None, "HCL Workload Automation (TWS) host.",
       resync_env=("TWS_HOST",), own_env=False),
    _f("resync", "tws_port", p.service_port(1, 65535), None,
       "TWS port; with tws_host, a `tws` TCP probe. Kubernetes' tcp://host:port form gives its port.",
       resync_env=("TWS_PORT",), own_env=False),
    _f("resync", "tws_user", p.text(), None, "TWS user.",
       resync_env=("TWS_USER",), own_env=False),
    _f("resync", "tws_password", p.text(), None, "TWS password.",
       resync_env=("TWS_PASSWORD",), own_env=False, secret=True),
    _f("resync", "llm_endpoint", p.url("http", "https"), None,
       "LLM endpoint; when set, an `llm` HTTP GET probe.",
       resync_env=("LLM_ENDPOINT",), own_env=False, url=True),
    _f("resync", "llm_api_key", p.text(), None, "LLM API key.",
       resync_env=("LLM_API_KEY",), own_env=False, secret=True),
    _f("resync", "admin_username", p.text(), None,
       "Admin user name (at least 3 characters in production).",
       resync_env=("ADMIN_USERNAME",), own_env=False),
    _f("resync", "admin_password", p.text(), None,
       "Admin password (at least 12 characters and not a known weak value in production).",
       resync_env=("ADMIN_PASSWORD",), own_env=False, secret=True),
    _f("resync", "secret_key", p.text(), None,
       "Signing key (at least 32 characters, without CHANGE_ME, in production).",
       resync_env=("SECRET_KEY",), own_env=False, secret=True),
    _f("resync", "require_tws_at_boot", p.boolean, False,
       "Make the `tws` probe critical; TWS_HOST and TWS_PORT become required.",
       resync_env=("REQUIRE_TWS_AT_BOOT",), own_env=False),
    _f("resync", "require_llm_at_boot", p.boolean, False,
       "Make the `llm` probe critical; LLM_ENDPOINT becomes required.",
       resync_env=("REQUIRE_LLM_AT_BOOT",), own_env=False),
)

# Keys of one [[probes]] table; ``section`` is "probes".
PROBE_FIELDS: tuple[Field, ...] = (
    _f("probes", "name", p.text(), None, "Unique name of the dependency (required).", required=True),
    _f("probes", "kind", p.choice("tcp", "http", "redis", "postgres"), None,
       "tcp, http, redis or postgres (required).", required=True),
    _f("probes", "host", p.text(), None, "Host (tcp; postgres without url)."),
    _f("probes", "port", p.integer(1, 65535), None, "Port (tcp; postgres without url)."),
    _f("probes", "url", p.text(), None,
       "URL (http: http(s)://; redis: redis(s)://; postgres: postgresql://).", url=True),
    _f("probes", "critical", p.boolean, True,
       "A critical probe must pass before serving; others only warn."),
    _f("probes", "timeout", _positive_seconds, 3.0,
       "Seconds per attempt (never past the startup deadline)."),
    _f("probes", "expect_status", p.status_spec, p.status_spec("<500"),
       "http: healthy statuses, e.g. '<500', '200-399' or [200, 204]."),
)

# The sections of the settings, in table order: ("server", "startup", "log", "resync").
# The loader, Settings.redacted() and the CLI's ``config`` listing all iterate this.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(f.section for f in FIELDS))

_BY_PATH = {f.path: f for f in FIELDS}


def field(path: str) -> Field:
    """The field at ``path`` (``"server.bind"``); ``KeyError`` for an unknown path."""
    return _BY_PATH[path]
