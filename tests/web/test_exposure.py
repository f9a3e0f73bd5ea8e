"""Telling a management connection from a public one by the local address it was accepted on."""

from __future__ import annotations

import pytest

from resync_fsm.web.exposure import Listeners


def listeners(*addresses: tuple[str, int | None]) -> Listeners:
    found = Listeners()
    found.bound(addresses, [f"url{i}" for i, _ in enumerate(addresses)])
    return found


@pytest.mark.parametrize(("bound", "server", "management"), [
    (("127.0.0.1", 9000), ("127.0.0.1", 9000), True),
    (("127.0.0.1", 9000), ("127.0.0.1", 8000), False),
    (("127.0.0.1", 9000), ("10.0.0.5", 9000), False),  # same port on another address: public
    (("0.0.0.0", 9000), ("10.0.0.5", 9000), True),  # a wildcard bind: any local address
    (("::", 9000), ("::ffff:10.0.0.5", 9000), True),
    (("10.0.0.5", 9000), ("::ffff:10.0.0.5", 9000), True),  # IPv4-mapped on a dual-stack socket
    (("::1", 9000), ("::1", 9000), True),
    (("fe80::1%eth0", 9000), ("fe80::1%eth0", 9000), True),
    (("/run/m.sock", None), ("/run/m.sock", None), True),
    (("/run/m.sock", None), ("/run/app.sock", None), False),
    (("127.0.0.1", 9000), None, False),  # no local address: public
])
def test_the_local_address_decides(bound: tuple[str, int | None], server: tuple[str, int | None] | None,
                                   management: bool) -> None:
    scope = {"type": "http", "server": server, "headers": [(b"host", b"127.0.0.1:9000")]}
    assert listeners(bound).is_management(scope) is management


def test_no_management_listener_means_every_request_is_public() -> None:
    none = Listeners()
    assert not none and none.urls == []
    assert not none.is_management({"server": ("127.0.0.1", 9000)})
    assert listeners(("127.0.0.1", 9000)).urls == ["url0"]
