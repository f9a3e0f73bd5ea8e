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
from . import parsers_system as sf

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
       "Addresses to listen on (host:port, [::1]:port, unix:/path, fd://N: an inherited listening "
       "socket). A unix: socket file is replaced if stale, refused if a server answers on it, and "
       "removed on exit. Resync's SERVER_HOST and SERVER_PORT set one bind address when this is not set; "
       "systemd socket activation (LISTEN_FDS) sets fd://3... when neither is.",
       flag="--bind", repeatable=True),
    _f("server", "loop", p.loop_name, "auto",
       "The event loop the app runs on: auto (uvloop where it is installed, else asyncio, as "
       "Uvicorn's --loop auto), asyncio, uvloop or trio (apps written for trio). The lifecycle "
       "itself always runs on trio.", flag="--loop"),
    _f("server", "engine", p.engine_name, "auto",
       "The HTTP server: auto (Uvicorn, unless the loop is trio or the settings ask for HTTP/2 — "
       "TLS, which offers it by ALPN, or server.h2c = true given explicitly — then Hypercorn), "
       "uvicorn (asyncio or uvloop, HTTP/1.1, faster) or hypercorn (any loop, HTTP/2).",
       flag="--engine"),
    _f("server", "workers", p.integer(1, 256), 1,
       "Worker processes serving the app (1: in this process). Above 1 this process validates, probes "
       "and binds once, then supervises that many workers (replaced when they die, recycled after "
       "max_requests, swapped on SIGHUP); for VMs, where one process would use one core.",
       flag="--workers"),
    _f("server", "crash_loop_deaths", p.integer(1, 1000), 5,
       "Worker deaths within crash_loop_seconds that end the run in failed (exit 70): a crash loop."),
    _f("server", "crash_loop_seconds", _positive_seconds, 60.0,
       "The window, in seconds, over which worker deaths count as a crash loop."),
    _f("server", "worker_heartbeat_timeout", _positive_seconds, 30.0,
       "Seconds a serving worker may leave the supervisor's heartbeat unanswered (its loop blocked) "
       "before it is killed and replaced (Gunicorn's --timeout)."),
    _f("server", "max_requests", p.integer(0, 1_000_000_000), 0,
       "Requests a worker serves before it is replaced (its replacement serves first; 0: never). "
       "Gunicorn's --max-requests. With one process (workers = 1), the process drains and exits 0 "
       "after that many, for its supervisor to restart it (Uvicorn's --limit-max-requests).",
       flag="--max-requests"),
    _f("server", "max_requests_jitter", p.integer(0, 1_000_000_000), 0,
       "Up to this many requests added at random to each worker's max_requests, so that workers do "
       "not all recycle at once (Gunicorn's --max-requests-jitter).", flag="--max-requests-jitter"),
    _f("server", "graceful_timeout", _seconds, 20.0,
       "Seconds in-flight requests get to finish once the listener closes (0: cut them at once). With "
       "drain_delay and shutdown_timeout the defaults make a 25 s drain, inside Kubernetes' default 30 s "
       "grace period.", flag="--graceful-timeout"),
    _f("server", "drain_delay", _seconds, 0.0,
       "Seconds /readyz answers 503 while the listener still serves, before it closes.",
       flag="--drain-delay"),
    _f("server", "shutdown_timeout", _positive_seconds, 5.0,
       "Seconds the app's lifespan shutdown may take (above 0: with 0 every stop would time out)."),
    _f("server", "watch_interval", _seconds, 0.0,
       "While serving, re-run the critical probes every this many seconds (0: off); "
       "a failure turns readiness false, never liveness, until they pass."),
    _f("server", "termination_grace", _seconds, None,
       "The orchestrator's grace period before it kills the process (Kubernetes: "
       "terminationGracePeriodSeconds, 30 by default); a warning at validation when "
       "drain_delay + graceful_timeout + shutdown_timeout exceed it. Under Kubernetes "
       "(KUBERNETES_SERVICE_HOST set) 30 unless set."),
    _f("server", "management_bind", p.string_list(p.bind_address), (),
       "Addresses of the management listener (as bind): it answers the health endpoints, status_path, "
       "the status page at / and metrics_path, and nothing else (Spring Boot's management port). "
       "Empty: none.", flag="--management-bind", repeatable=True),
    _f("server", "expose_status", sf.exposure, None,
       "Serve status_path and the status page on the public listeners too: true, false, or unset "
       "(auto): only the built-in app does, and only without a management listener. The public "
       "listeners always answer livez_path and readyz_path.", flag="--expose-status"),
    _f("server", "livez_path", p.url_path, "/livez", "Liveness endpoint (200 unless failed)."),
    _f("server", "readyz_path", p.url_path, "/readyz",
       "Readiness endpoint (200 only while serving)."),
    _f("server", "status_path", p.url_path, "/status", "Status endpoint (JSON, nothing secret)."),
    _f("server", "metrics", p.boolean, True,
       "Serve Prometheus metrics at metrics_path (on the management listener only when one is "
       "configured, else on the public one); no label holds a target, a path or a client address."),
    _f("server", "metrics_path", p.url_path, "/metrics", "Prometheus metrics endpoint (text format)."),
    _f("server", "app_dir", sf.directory, ".",
       "Directory put first on the import path before the app is imported (default: the working "
       "directory, for the console script as for python -m; Uvicorn's --app-dir).", flag="--app-dir"),
    _f("server", "reload", p.boolean, False,
       "Development mode: serve a new generation of the app, freshly imported, when a watched file "
       "changes (Uvicorn's --reload); not with workers above 1, and a warning in production.",
       flag="--reload"),
    _f("server", "reload_dirs", p.string_list(sf.directory), (".",),
       "Directories watched with reload (Uvicorn's --reload-dir; default: the working directory).",
       flag="--reload-dir", repeatable=True),
    _f("server", "reload_includes", p.string_list(p.text()), ("*.py",),
       "Glob patterns of the files whose change reloads (Uvicorn's --reload-include and default).",
       flag="--reload-include", repeatable=True),
    _f("server", "reload_excludes", p.string_list(p.text()), (".*", ".py[cod]", ".sw.*", "~*"),
       "Glob patterns of the files never watched, over reload_includes (Uvicorn's --reload-exclude "
       "and defaults).", flag="--reload-exclude", repeatable=True),
    _f("server", "lifespan", p.choice("auto", "on", "off"), "auto",
       "The app's ASGI lifespan: auto (run it; an app that raises before reading a message does not "
       "speak it), on (that is an error) or off (never run it), as Uvicorn's --lifespan.",
       flag="--lifespan"),
    _f("server", "startup_timeout", _positive_seconds, 60.0,
       "Seconds the app's lifespan startup may take (Hypercorn's default; the probes have "
       "startup.timeout).", flag="--app-startup-timeout"),
    _f("server", "forwarded_allow_ips", sf.peer_list, (),
       "Proxies trusted for X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded: addresses, CIDR "
       "networks, unix:PATH (every peer of the unix socket bound at PATH) or * (every peer, a unix "
       "socket's included); only a request whose immediate peer is one of them has its client, scheme "
       "and host taken from those headers (Uvicorn's semantics). Empty: the headers are ignored.",
       flag="--forwarded-allow-ips"),
    _f("server", "root_path", sf.root_path, "",
       "The path prefix a proxy serves the app under and strips (ASGI root_path, e.g. /api): the app's path "
       "includes it (as in Uvicorn), on every engine; the health endpoints answer unprefixed.",
       flag="--root-path"),
    _f("server", "keep_alive_timeout", _positive_seconds, 5.0,
       "Seconds an idle keep-alive connection stays open (Hypercorn's and Uvicorn's 5). Behind a load "
       "balancer, set it above the balancer's idle timeout (60 s on common ones), else sporadic 502s.",
       flag="--keep-alive-timeout"),
    _f("server", "backlog", p.integer(1, 65535), 2048,
       "Connections the kernel queues before accept (Gunicorn's and Uvicorn's 2048; capped by "
       "net.core.somaxconn).", flag="--backlog"),
    _f("server", "limit_concurrency", p.integer(1, 1_000_000), None,
       "Most requests and websockets the app handles at once; beyond it 503 (the health endpoints are "
       "still answered). Unset: no limit.", flag="--limit-concurrency"),
    _f("server", "max_header_size", p.integer(1024, 1048576), 16384,
       "Bytes of request line and headers accepted: an HTTP/1.1 request head over it gets 431 however its "
       "bytes arrive (RFC 6585 §5), an HTTP/2 header list over it is refused.",
       flag="--max-header-size"),
    # request bodies and lingering close (issue 23)
    _f("server", "max_body_size", p.integer(1, 1 << 62), None,
       "Bytes of request body accepted (nginx's client_max_body_size): a larger one gets 413 with "
       "Connection: close, by its Content-Length before the app sees it, else as it streams in while the "
       "app has not answered. Unset: no limit (Hypercorn's and Uvicorn's behaviour).",
       flag="--max-body-size"),
    _f("server", "lingering_time", _seconds, 30.0,
       "Seconds at most that a connection answered before its request was completely read (an app "
       "error, 413, an early 401, 503) keeps reading and discarding it after the answer, before it "
       "closes, so that a reset does not destroy the answer (nginx's lingering_time; RFC 9112 §9.6). "
       "0: close at once."),
    _f("server", "lingering_timeout", _positive_seconds, 5.0,
       "Seconds such a lingering connection waits for more data before it closes (nginx's "
       "lingering_timeout)."),
    _f("server", "lingering_size", p.integer(0, 1 << 40), 4194304,
       "Bytes at most that such a lingering connection reads and discards before it closes (4 MiB; "
       "nginx bounds it by time only)."),
    _f("server", "websocket_ping_interval", _seconds, 0.0,
       "Seconds between websocket pings (0: none).", flag="--websocket-ping-interval"),
    _f("server", "ws_max_size", p.integer(1, 1 << 30), 16 * 1024 * 1024,
       "Bytes of the largest websocket message accepted; a larger one closes the websocket with 1009 "
       "(Uvicorn's --ws-max-size and both engines' default, 16 MiB).", flag="--ws-max-size"),
    _f("server", "server_header", p.boolean, True,
       "Send the Server response header.", flag="--no-server-header", flag_negative=True),
    _f("server", "h2c", p.boolean, True,
       "Accept HTTP/1.1 Upgrade: h2c (HTTP/2 over cleartext; Hypercorn only: given explicitly as true, "
       "server.engine = auto picks Hypercorn); false answers such requests in HTTP/1.1.",
       flag="--no-h2c", flag_negative=True),
    _f("server", "unix_socket_mode", sf.file_mode, None,
       "Permissions of a unix: bind's socket file, octal ('660'). Unset: from the umask."),
    _f("server", "unix_socket_owner", sf.owner, None,
       "Owner of a unix: bind's socket file, 'user' or 'user:group' (needs the privilege to chown)."),
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
    _f("log", "config", sf.log_config, None,
       "Your own stdlib logging configuration, applied over the runner's (Uvicorn's --log-config): "
       "dictConfig as .json or .yaml, else fileConfig INI. Unset: the engines' loggers as the "
       "runner's events; the root logger is the app's, left alone.", flag="--log-config"),
    # [tls]
    _f("tls", "certfile", sf.readable_file, None,
       "PEM certificate chain: with keyfile, every bind serves TLS (HTTP/2 and HTTP/1.1 by ALPN). An "
       "expired, not yet valid or within 14 days expiring certificate is a warning at validation.",
       flag="--certfile"),
    _f("tls", "keyfile", sf.readable_file, None, "PEM private key of certfile.", flag="--keyfile"),
    _f("tls", "ca_certs", sf.readable_file, None,
       "PEM CA certificates that client certificates are verified against.", flag="--ca-certs"),
    _f("tls", "ciphers", sf.tls_ciphers, "ECDHE+AESGCM",
       "OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's); Hypercorn's default.",
       flag="--ciphers"),
    _f("tls", "client_cert", p.choice(*sf.CLIENT_CERT_MODES), "none",
       "Client certificates: none, optional or required (verified against ca_certs).",
       flag="--client-cert"),
    # [access_log]
    _f("access_log", "enabled", p.boolean, False,
       "One `access` event per request (method, path, status, bytes, duration_ms, client, request_id). "
       "Off by default, as in Hypercorn and Gunicorn: the ingress or load balancer usually logs "
       "requests already.", flag="--access-log"),
    _f("access_log", "health", p.boolean, False,
       "Log requests to the runner's own endpoints too (livez, readyz, status and metrics paths: "
       "probes and scrapes every few seconds drown the log).",
       flag="--access-log-health"),
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
       "Admin user name (at least 3 characters in production; shorter is a warning elsewhere).",
       resync_env=("ADMIN_USERNAME",), own_env=False),
    _f("resync", "admin_password", p.text(), None,
       "Admin password (in production at least 12 characters, not a known weak or placeholder value; "
       "elsewhere those are warnings).",
       resync_env=("ADMIN_PASSWORD",), own_env=False, secret=True),
    _f("resync", "secret_key", p.text(), None,
       "Signing key (in production at least 32 characters, not a placeholder such as CHANGE_ME; "
       "elsewhere those are warnings).",
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

# The sections of the settings, in table order: ("server", "startup", "log", "tls", "access_log", "resync").
# The loader, Settings.redacted() and the CLI's ``config`` listing all iterate this.
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(f.section for f in FIELDS))

_BY_PATH = {f.path: f for f in FIELDS}


def field(path: str) -> Field:
    """The field at ``path`` (``"server.bind"``); ``KeyError`` for an unknown path."""
    return _BY_PATH[path]
