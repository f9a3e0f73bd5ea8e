"""Which listener a request came in on: a management one (``server.management_bind``) or a public one.

The health wrapper asks :meth:`Listeners.is_management` for every request. It
reads the ASGI ``scope["server"]``, the local address the connection was
accepted on (``(host, port)``; ``(path, None)`` on a unix socket, both engines),
and compares it with the management listeners' bound addresses, which the
backend reports once bound (ports resolved). A management listener bound to a
wildcard address (``0.0.0.0``, ``::``) matches its port on any local address;
IPv4-mapped IPv6 addresses match their IPv4 form. Nothing a client sends
(``Host``, ``Forwarded``) takes part. What each listener serves:
docs/operations.md "Exposure".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = ["Listeners", "public_status"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(host: str) -> _Address | None:
    """``host`` as an address (scope-id dropped, IPv4-mapped unwrapped); ``None`` if not an IP address."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Listeners:
    """The management listeners' local addresses; every other listener is public."""

    def __init__(self) -> None:
        self.urls: list[str] = []  # the management listeners as clients reach them
        self._paths: set[str] = set()  # unix sockets
        self._ports: dict[int, set[_Address | None]] = {}  # port -> addresses (None: any, a wildcard bind)

    def __bool__(self) -> bool:
        """Whether any management listener is bound."""
        return bool(self._paths or self._ports)

    def bound(self, addresses: Iterable[tuple[str, int | None]], urls: list[str]) -> None:
        """The management listeners: ``(host, port)`` or ``(path, None)`` each, and their URLs."""
        self.urls = list(urls)
        for host, port in addresses:
            if port is None:
                self._paths.add(host)
                continue
            address = _ip(host)
            self._ports.setdefault(port, set()).add(None if address is None or address.is_unspecified else address)

    def is_management(self, scope: MutableMapping[str, Any]) -> bool:
        """Whether the request in ``scope`` came in on a management listener."""
        server = scope.get("server")
        if not server:
            return False
        host, port = server[0], server[1]
        if port is None:
            return host in self._paths
        wanted = self._ports.get(port)
        if wanted is None:
            return False
        return None in wanted or _ip(str(host)) in wanted


def public_status(settings: Any, app: object) -> bool:
    """Whether the public listeners serve ``status_path`` and the status page (``server.expose_status``;
    unset: only the built-in app, whose page is its whole content, and only without a management
    listener — docs/operations.md "Exposure")."""
    from .status_app import app as builtin

    expose = settings.server.expose_status
    if expose is not None:
        return bool(expose)
    return app is builtin and not settings.server.management_bind
