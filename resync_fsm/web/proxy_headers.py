"""Trusting ``X-Forwarded-*`` and RFC 7239 ``Forwarded`` only from known proxies.

Follows Uvicorn's ``ProxyHeadersMiddleware`` (``--forwarded-allow-ips``): the
headers are believed only when the immediate peer (``scope["client"]``) is a
trusted address; the client is then the right-most ``X-Forwarded-For`` entry
that is not itself a trusted proxy (every entry trusted: the left-most), so a
client cannot forge its address by sending the header itself. ``*`` trusts every
peer and takes the left-most entry. A peer on a unix socket has no address
(``client`` is None on both engines): it is trusted under ``*`` (as in Uvicorn, whose
``*`` trusts every connection) or when the socket it came through, ``scope["server"] ==
(path, None)``, is named as ``unix:path`` (issue 24: nginx → unix socket). Beyond Uvicorn, ``X-Forwarded-Host``
(right-most value) replaces the ``Host`` header, and an RFC 7239 ``Forwarded``
header, when present, is used instead of the ``X-Forwarded-*`` ones: the client
is the same right-most untrusted ``for=``, with the ``proto=`` and ``host=`` of
that element. Hypercorn's own ``ProxyFixMiddleware`` trusts a hop count, not a
peer address, hence this module. The client's port becomes 0 (unknown), as in Uvicorn.
"""

from __future__ import annotations

import ipaddress
import re

from .asgi import ASGIApp, Receive, Scope, Send

__all__ = ["ProxyHeaders", "TrustedPeers", "parse_forwarded"]

_SCHEMES = {"http", "https", "ws", "wss"}
_PAIR = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')


class TrustedPeers:
    """Addresses, networks and unix sockets (``"10.0.0.0/8"``, ``"unix:/run/app.sock"``, ``"*"``) a proxy
    header is believed from."""

    def __init__(self, peers: tuple[str, ...]) -> None:
        self.everyone = "*" in peers
        self.sockets = {p.removeprefix("unix:") for p in peers if p.startswith("unix:")}
        self.networks = [ipaddress.ip_network(p, strict=False) for p in peers if p != "*" and not p.startswith("unix:")]
        self._known: dict[str, bool] = {}

    def trusts(self, scope: Scope) -> bool:
        """Whether the request's immediate peer is trusted: its address (``client``), or for a peer with
        none (a unix socket's) the socket it came through (``server``: ``(path, None)``)."""
        client = scope.get("client")
        if client:
            return client[0] in self
        if self.everyone:
            return True
        server = scope.get("server")
        if not server:
            return False
        return server[1] is None and server[0] in self.sockets

    def __contains__(self, host: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(host, str):
            return False
        known = self._known.get(host)
        if known is None:
            try:
                address = ipaddress.ip_address(host)
                known = any(address in network for network in self.networks)
            except ValueError:
                known = False
            if len(self._known) < 4096:
                self._known[host] = known
        return known

    def client_of(self, hops: list[str]) -> str | None:
        """The right-most entry of ``hops`` (client first, nearest proxy last) not trusted;
        the left-most when all are (or when everyone is)."""
        if not hops:
            return None
        if self.everyone:
            return hops[0]
        for host in reversed(hops):
            if host not in self:
                return host
        return hops[0]


def _node(value: str) -> str:
    """An RFC 7239 node (``192.0.2.1:80``, ``"[2001:db8::1]:4711"``, ``unknown``) without port or brackets."""
    value = value.strip().strip('"')
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.split(":", 1)[0] if value.count(":") == 1 else value


def parse_forwarded(header: str) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded`` to its elements, left to right: ``[{"for": ..., "proto": ..., "host": ...}]``.

    Parameter names are lower-cased; quoted values unquoted. A malformed element is kept empty.
    """
    elements = []
    for part in header.split(","):
        element: dict[str, str] = {}
        for pair in part.split(";"):
            match = _PAIR.fullmatch(pair)
            if match:
                value = match[2]
                if value.startswith('"'):
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                element[match[1].lower()] = value
        elements.append(element)
    return elements


class ProxyHeaders:
    """ASGI middleware: ``client``, ``scheme`` and the ``Host`` header from trusted proxies' headers."""

    def __init__(self, app: ASGIApp, peers: tuple[str, ...]) -> None:
        self.app = app
        self.trusted = TrustedPeers(peers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            if self.trusted.trusts(scope):
                self._apply(scope)
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope) -> None:
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in (b"forwarded", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"):
                found[name] = found[name] + b"," + value if name in found else value
        if not found:
            return
        host: str | None = None
        proto: str | None = None
        if b"forwarded" in found:
            elements = parse_forwarded(found[b"forwarded"].decode("latin-1"))
            hops = [_node(e.get("for", "unknown")) for e in elements]
            client = self.trusted.client_of(hops)
            chosen = elements[hops.index(client)] if client is not None else {}
            proto, host = chosen.get("proto"), chosen.get("host")
        else:
            forwarded_for = found.get(b"x-forwarded-for", b"").decode("latin-1")
            client = self.trusted.client_of([h.strip() for h in forwarded_for.split(",") if h.strip()])
            if b"x-forwarded-proto" in found:
                proto = found[b"x-forwarded-proto"].decode("latin-1").split(",")[-1]
            if b"x-forwarded-host" in found:
                host = found[b"x-forwarded-host"].decode("latin-1").split(",")[-1]
        if client:
            scope["client"] = (client, 0)
        if proto and proto.strip().lower() in _SCHEMES:
            scheme = proto.strip().lower()
            scope["scheme"] = scheme.replace("http", "ws") if scope["type"] == "websocket" else scheme
        if host and host.strip():
            headers = [(n, v) for n, v in scope["headers"] if n != b"host"]
            scope["headers"] = [(b"host", host.strip().encode("latin-1")), *headers]
