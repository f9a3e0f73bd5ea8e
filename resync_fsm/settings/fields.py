"""The one table of settings: every TOML key, environment variable and flag comes from here.

Each :class:`~.field_spec.Field` names its section and key (the TOML spelling); the
environment name (``RESYNC_FSM_<SECTION>_<KEY>``), the flag, Resync's own
variable names (bare and ``APP_``-prefixed) and the documentation are all
derived from it, so no name is spelled twice. The ``[server]`` section is in
:mod:`.fields_server`; the rest of the table is here.
"""

from __future__ import annotations

from . import parsers as p
from . import parsers_system as sf
from .field_spec import POSITIVE_SECONDS, Field, setting
from .fields_server import SERVER_FIELDS

__all__ = ["FIELDS", "PROBE_FIELDS", "SECTIONS", "Field", "field"]

FIELDS: tuple[Field, ...] = (
    *SERVER_FIELDS,
    # [startup]
    setting("startup", "fail_fast", p.boolean, True,
       "Fail when a critical probe does not pass by the deadline; when false, "
       "serve with readiness false while the probes keep retrying.",
       flag="--no-fail-fast", flag_negative=True),
    setting("startup", "timeout", POSITIVE_SECONDS, 30.0,
       "The startup deadline, in seconds, for all probes together.",
       flag="--startup-timeout"),
    # [log]
    setting("log", "level", p.choice("debug", "info", "warning", "error", "critical"), "info",
       "Log level.", flag="--log-level", resync_env=("LOG_LEVEL",)),
    setting("log", "format", p.choice("auto", "console", "json"), "auto",
       "console (readable), json, or auto: console on a TTY, json otherwise.",
       flag="--log-format"),
    setting("log", "config", sf.log_config, None,
       "Your own stdlib logging configuration, applied over the runner's (Uvicorn's --log-config): "
       "dictConfig as .json or .yaml, else fileConfig INI. Unset: the engines' loggers as the "
       "runner's events; the root logger is the app's, left alone.", flag="--log-config"),
    # [tls]
    setting("tls", "certfile", sf.readable_file, None,
       "PEM certificate chain: with keyfile, every bind serves TLS (HTTP/2 and HTTP/1.1 by ALPN). An "
       "expired, not yet valid or within 14 days expiring certificate is a warning at validation.",
       flag="--certfile"),
    setting("tls", "keyfile", sf.readable_file, None, "PEM private key of certfile.", flag="--keyfile"),
    setting("tls", "ca_certs", sf.readable_file, None,
       "PEM CA certificates that client certificates are verified against.", flag="--ca-certs"),
    setting("tls", "ciphers", sf.tls_ciphers, "ECDHE+AESGCM",
       "OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's); Hypercorn's default.",
       flag="--ciphers"),
    setting("tls", "client_cert", p.choice(*sf.CLIENT_CERT_MODES), "none",
       "Client certificates: none, optional or required (verified against ca_certs).",
       flag="--client-cert"),
    # [access_log]
    setting("access_log", "enabled", p.boolean, False,
       "One `access` event per request (method, path, status, bytes, duration_ms, client, request_id). "
       "Off by default, as in Hypercorn and Gunicorn: the ingress or load balancer usually logs "
       "requests already.", flag="--access-log"),
    setting("access_log", "health", p.boolean, False,
       "Log requests to the runner's own endpoints too (livez, readyz, status and metrics paths: "
       "probes and scrapes every few seconds drown the log).",
       flag="--access-log-health"),
    # [resync] — Resync's own settings; its variable names keep working.
    setting("resync", "environment", p.choice("development", "test", "production"), "development",
       "Resync's environment; production makes the security settings required and strict.",
       resync_env=("ENVIRONMENT",), own_env=False),
    setting("resync", "server_host", p.text(), None,
       "Resync's bind host (used when server.bind is not set).",
       resync_env=("SERVER_HOST",), own_env=False),
    setting("resync", "server_port", p.service_port(0, 65535), None,
       "Resync's bind port (used when server.bind is not set); Kubernetes' "
       "service-link form tcp://host:port gives its port.",
       resync_env=("SERVER_PORT",), own_env=False),
    setting("resync", "redis_url", p.url("redis", "rediss"), None,
       "Redis URL; when set, a critical `redis` probe.",
       resync_env=("REDIS_URL",), own_env=False, url=True),
    setting("resync", "tws_host", p.text(), None, "HCL Workload Automation (TWS) host.",
       resync_env=("TWS_HOST",), own_env=False),
    setting("resync", "tws_port", p.service_port(1, 65535), None,
       "TWS port; with tws_host, a `tws` TCP probe. Kubernetes' tcp://host:port form gives its port.",
       resync_env=("TWS_PORT",), own_env=False),
    setting("resync", "tws_user", p.text(), None, "TWS user.",
       resync_env=("TWS_USER",), own_env=False),
    setting("resync", "tws_password", p.text(), None, "TWS password.",
       resync_env=("TWS_PASSWORD",), own_env=False, secret=True),
    setting("resync", "llm_endpoint", p.url("http", "https"), None,
       "LLM endpoint; when set, an `llm` HTTP GET probe.",
       resync_env=("LLM_ENDPOINT",), own_env=False, url=True),
    setting("resync", "llm_api_key", p.text(), None, "LLM API key.",
       resync_env=("LLM_API_KEY",), own_env=False, secret=True),
    setting("resync", "admin_username", p.text(), None,
       "Admin user name (at least 3 characters in production; shorter is a warning elsewhere).",
       resync_env=("ADMIN_USERNAME",), own_env=False),
    setting("resync", "admin_password", p.text(), None,
       "Admin password (in production at least 12 characters, not a known weak or placeholder value; "
       "elsewhere those are warnings).",
       resync_env=("ADMIN_PASSWORD",), own_env=False, secret=True),
    setting("resync", "secret_key", p.text(), None,
       "Signing key (in production at least 32 characters, not a placeholder such as CHANGE_ME; "
       "elsewhere those are warnings).",
       resync_env=("SECRET_KEY",), own_env=False, secret=True),
    setting("resync", "require_tws_at_boot", p.boolean, False,
       "Make the `tws` probe critical; TWS_HOST and TWS_PORT become required.",
       resync_env=("REQUIRE_TWS_AT_BOOT",), own_env=False),
    setting("resync", "require_llm_at_boot", p.boolean, False,
       "Make the `llm` probe critical; LLM_ENDPOINT becomes required.",
       resync_env=("REQUIRE_LLM_AT_BOOT",), own_env=False),
)

# Keys of one [[probes]] table; ``section`` is "probes".
PROBE_FIELDS: tuple[Field, ...] = (
    setting("probes", "name", p.text(), None, "Unique name of the dependency (required).", required=True),
    setting("probes", "kind", p.choice("tcp", "http", "redis", "postgres"), None,
       "tcp, http, redis or postgres (required).", required=True),
    setting("probes", "host", p.text(), None, "Host (tcp; postgres without url)."),
    setting("probes", "port", p.integer(1, 65535), None, "Port (tcp; postgres without url)."),
    setting("probes", "url", p.text(), None,
       "URL (http: http(s)://; redis: redis(s)://; postgres: postgresql://).", url=True),
    setting("probes", "critical", p.boolean, True,
       "A critical probe must pass before serving; others only warn."),
    setting("probes", "timeout", POSITIVE_SECONDS, 3.0,
       "Seconds per attempt (never past the startup deadline)."),
    setting("probes", "expect_status", p.status_spec, p.status_spec("<500"),
       "http: healthy statuses, e.g. '<500', '200-399' or [200, 204]."),
)

# The sections of the settings, in table order: ("server", "startup", "log", "tls", "access_log", "resync").
# The loader, Settings.redacted() and the CLI's ``config`` listing all iterate this.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(f.section for f in FIELDS))

_BY_PATH = {f.path: f for f in FIELDS}


def field(path: str) -> Field:
    """The field at ``path`` (``"server.bind"``); ``KeyError`` for an unknown path."""
    return _BY_PATH[path]
