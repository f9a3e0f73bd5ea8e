"""The ``[server]`` section of the table of settings (:mod:`.fields`): what to serve, where, on which
engine and loop, and the drain's timings."""

from __future__ import annotations

from . import parsers as p
from . import parsers_system as sf
from .field_spec import POSITIVE_SECONDS, SECONDS, Field, setting

__all__ = ["SERVER_FIELDS"]

SERVER_FIELDS: tuple[Field, ...] = (
    setting("server", "app", p.app_ref, "resync_fsm.app:app",
       "The ASGI 3 app to serve, as module:attribute.", flag="--app"),
    setting("server", "factory", p.boolean, False,
       "Call the app attribute with no arguments to get the app.", flag="--factory"),
    setting("server", "bind", p.string_list(p.bind_address), ("127.0.0.1:8000",),
       "Addresses to listen on (host:port, [::1]:port, unix:/path, fd://N: an inherited listening "
       "socket). A unix: socket file is replaced if stale, refused if a server answers on it, and "
       "removed on exit. Resync's SERVER_HOST and SERVER_PORT set one bind address when this is not set; "
       "systemd socket activation (LISTEN_FDS) sets fd://3... when neither is.",
       flag="--bind", repeatable=True),
    setting("server", "loop", p.loop_name, "auto",
       "The event loop the app runs on: auto (uvloop where it is installed, else asyncio, as "
       "Uvicorn's --loop auto), asyncio, uvloop or trio (apps written for trio). The lifecycle "
       "itself always runs on trio.", flag="--loop"),
    setting("server", "engine", p.engine_name, "auto",
       "The HTTP server: auto (Uvicorn, unless the loop is trio or the settings ask for HTTP/2 — "
       "TLS, which offers it by ALPN, or server.h2c = true given explicitly — then Hypercorn), "
       "uvicorn (asyncio or uvloop, HTTP/1.1, faster) or hypercorn (any loop, HTTP/2).",
       flag="--engine"),
    setting("server", "workers", p.integer(1, 256), 1,
       "Worker processes serving the app (1: in this process). Above 1 this process validates, probes "
       "and binds once, then supervises that many workers (replaced when they die, recycled after "
       "max_requests, swapped on SIGHUP); for VMs, where one process would use one core.",
       flag="--workers"),
    setting("server", "crash_loop_deaths", p.integer(1, 1000), 5,
       "Worker deaths within crash_loop_seconds that end the run in failed (exit 70): a crash loop."),
    setting("server", "crash_loop_seconds", POSITIVE_SECONDS, 60.0,
       "The window, in seconds, over which worker deaths count as a crash loop."),
    setting("server", "worker_heartbeat_timeout", POSITIVE_SECONDS, 30.0,
       "Seconds a serving worker may leave the supervisor's heartbeat unanswered (its loop blocked) "
       "before it is killed and replaced (Gunicorn's --timeout)."),
    setting("server", "max_requests", p.integer(0, 1_000_000_000), 0,
       "Requests a worker serves before it is replaced (its replacement serves first; 0: never). "
       "Gunicorn's --max-requests. With one process (workers = 1), the process drains and exits 0 "
       "after that many, for its supervisor to restart it (Uvicorn's --limit-max-requests).",
       flag="--max-requests"),
    setting("server", "max_requests_jitter", p.integer(0, 1_000_000_000), 0,
       "Up to this many requests added at random to each worker's max_requests, so that workers do "
       "not all recycle at once (Gunicorn's --max-requests-jitter).", flag="--max-requests-jitter"),
    setting("server", "graceful_timeout", SECONDS, 20.0,
       "Seconds in-flight requests get to finish once the listener closes (0: cut them at once). With "
       "drain_delay and shutdown_timeout the defaults make a 25 s drain, inside Kubernetes' default 30 s "
       "grace period.", flag="--graceful-timeout"),
    setting("server", "drain_delay", SECONDS, 0.0,
       "Seconds /readyz answers 503 while the listener still serves, before it closes.",
       flag="--drain-delay"),
    setting("server", "shutdown_timeout", POSITIVE_SECONDS, 5.0,
       "Seconds the app's lifespan shutdown may take (above 0: with 0 every stop would time out)."),
    setting("server", "watch_interval", SECONDS, 0.0,
       "While serving, re-run the critical probes every this many seconds (0: off); "
       "a failure turns readiness false, never liveness, until they pass."),
    setting("server", "termination_grace", SECONDS, None,
       "The orchestrator's grace period before it kills the process (Kubernetes: "
       "terminationGracePeriodSeconds, 30 by default); a warning at validation when "
       "drain_delay + graceful_timeout + shutdown_timeout exceed it. Under Kubernetes "
       "(KUBERNETES_SERVICE_HOST set) 30 unless set."),
    setting("server", "management_bind", p.string_list(p.bind_address), (),
       "Addresses of the management listener (as bind): it answers the health endpoints, status_path, "
       "the status page at / and metrics_path, and nothing else (Spring Boot's management port). "
       "Empty: none.", flag="--management-bind", repeatable=True),
    setting("server", "expose_status", sf.exposure, None,
       "Serve status_path and the status page on the public listeners too: true, false, or unset "
       "(auto): only the built-in app does, and only without a management listener. The public "
       "listeners always answer livez_path and readyz_path.", flag="--expose-status"),
    setting("server", "livez_path", p.url_path, "/livez", "Liveness endpoint (200 unless failed)."),
    setting("server", "readyz_path", p.url_path, "/readyz",
       "Readiness endpoint (200 only while serving)."),
    setting("server", "status_path", p.url_path, "/status", "Status endpoint (JSON, nothing secret)."),
    setting("server", "metrics", p.boolean, True,
       "Serve Prometheus metrics at metrics_path (on the management listener only when one is "
       "configured, else on the public one); no label holds a target, a path or a client address."),
    setting("server", "metrics_path", p.url_path, "/metrics", "Prometheus metrics endpoint (text format)."),
    setting("server", "app_dir", sf.directory, ".",
       "Directory put first on the import path before the app is imported (default: the working "
       "directory, for the console script as for python -m; Uvicorn's --app-dir).", flag="--app-dir"),
    setting("server", "reload", p.boolean, False,
       "Development mode: serve a new generation of the app, freshly imported, when a watched file "
       "changes (Uvicorn's --reload); not with workers above 1, and a warning in production.",
       flag="--reload"),
    setting("server", "reload_dirs", p.string_list(sf.directory), (".",),
       "Directories watched with reload (Uvicorn's --reload-dir; default: the working directory).",
       flag="--reload-dir", repeatable=True),
    setting("server", "reload_includes", p.string_list(p.text()), ("*.py",),
       "Glob patterns of the files whose change reloads (Uvicorn's --reload-include and default).",
       flag="--reload-include", repeatable=True),
    setting("server", "reload_excludes", p.string_list(p.text()), (".*", ".py[cod]", ".sw.*", "~*"),
       "Glob patterns of the files never watched, over reload_includes (Uvicorn's --reload-exclude "
       "and defaults).", flag="--reload-exclude", repeatable=True),
    setting("server", "lifespan", p.choice("auto", "on", "off"), "auto",
       "The app's ASGI lifespan: auto (run it; an app that raises before reading a message does not "
       "speak it), on (that is an error) or off (never run it), as Uvicorn's --lifespan.",
       flag="--lifespan"),
    setting("server", "startup_timeout", POSITIVE_SECONDS, 60.0,
       "Seconds the app's lifespan startup may take (Hypercorn's default; the probes have "
       "startup.timeout).", flag="--app-startup-timeout"),
    setting("server", "forwarded_allow_ips", sf.peer_list, (),
       "Proxies trusted for X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded: addresses, CIDR "
       "networks, unix:PATH (every peer of the unix socket bound at PATH) or * (every peer, a unix "
       "socket's included); only a request whose immediate peer is one of them has its client, scheme "
       "and host taken from those headers (Uvicorn's semantics). Empty: the headers are ignored.",
       flag="--forwarded-allow-ips"),
    setting("server", "root_path", sf.root_path, "",
       "The path prefix a proxy serves the app under and strips (ASGI root_path, e.g. /api): the app's path "
       "includes it (as in Uvicorn), on every engine; the health endpoints answer unprefixed.",
       flag="--root-path"),
    setting("server", "keep_alive_timeout", POSITIVE_SECONDS, 5.0,
       "Seconds an idle keep-alive connection stays open (Hypercorn's and Uvicorn's 5). Behind a load "
       "balancer, set it above the balancer's idle timeout (60 s on common ones), else sporadic 502s.",
       flag="--keep-alive-timeout"),
    setting("server", "backlog", p.integer(1, 65535), 2048,
       "Connections the kernel queues before accept (Gunicorn's and Uvicorn's 2048; capped by "
       "net.core.somaxconn).", flag="--backlog"),
    setting("server", "limit_concurrency", p.integer(1, 1_000_000), None,
       "Most requests and websockets the app handles at once; beyond it 503 (the health endpoints are "
       "still answered). Unset: no limit.", flag="--limit-concurrency"),
    setting("server", "max_header_size", p.integer(1024, 1048576), 16384,
       "Bytes of request line and headers accepted: an HTTP/1.1 request head over it gets 431 however its "
       "bytes arrive (RFC 6585 §5), an HTTP/2 header list over it is refused.",
       flag="--max-header-size"),
    # request bodies and lingering close (issue 23)
    setting("server", "max_body_size", p.integer(1, 1 << 62), None,
       "Bytes of request body accepted (nginx's client_max_body_size): a larger one gets 413 with "
       "Connection: close, by its Content-Length before the app sees it, else as it streams in while the "
       "app has not answered. Unset: no limit (Hypercorn's and Uvicorn's behaviour).",
       flag="--max-body-size"),
    setting("server", "lingering_time", SECONDS, 30.0,
       "Seconds at most that a connection answered before its request was completely read (an app "
       "error, 413, an early 401, 503) keeps reading and discarding it after the answer, before it "
       "closes, so that a reset does not destroy the answer (nginx's lingering_time; RFC 9112 §9.6). "
       "0: close at once."),
    setting("server", "lingering_timeout", POSITIVE_SECONDS, 5.0,
       "Seconds such a lingering connection waits for more data before it closes (nginx's "
       "lingering_timeout)."),
    setting("server", "lingering_size", p.integer(0, 1 << 40), 4194304,
       "Bytes at most that such a lingering connection reads and discards before it closes (4 MiB; "
       "nginx bounds it by time only)."),
    setting("server", "websocket_ping_interval", SECONDS, 0.0,
       "Seconds between websocket pings (0: none).", flag="--websocket-ping-interval"),
    setting("server", "ws_max_size", p.integer(1, 1 << 30), 16 * 1024 * 1024,
       "Bytes of the largest websocket message accepted; a larger one closes the websocket with 1009 "
       "(Uvicorn's --ws-max-size and both engines' default, 16 MiB).", flag="--ws-max-size"),
    setting("server", "server_header", p.boolean, True,
       "Send the Server response header.", flag="--no-server-header", flag_negative=True),
    setting("server", "h2c", p.boolean, True,
       "Accept HTTP/1.1 Upgrade: h2c (HTTP/2 over cleartext; Hypercorn only: given explicitly as true, "
       "server.engine = auto picks Hypercorn); false answers such requests in HTTP/1.1.",
       flag="--no-h2c", flag_negative=True),
    setting("server", "unix_socket_mode", sf.file_mode, None,
       "Permissions of a unix: bind's socket file, octal ('660'). Unset: from the umask."),
    setting("server", "unix_socket_owner", sf.owner, None,
       "Owner of a unix: bind's socket file, 'user' or 'user:group' (needs the privilege to chown)."),
)
