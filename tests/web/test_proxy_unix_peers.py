"""Issue 24, item 2: a unix socket's peer has no address (``client`` None on both engines); it is trusted
under ``*`` (as in Uvicorn) or when its socket (``server == (path, None)``) is named ``unix:path``, and
only then; an addressed peer is judged by its address alone, whatever socket names are trusted."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.settings.parsers_system import peer_list
from resync_fsm.web.proxy_headers import ProxyHeaders, TrustedPeers

paths = st.sampled_from(["/run/app.sock", "/tmp/a.sock", "/srv/x/y.sock"])
entries = st.one_of(st.just("*"), st.just("127.0.0.1"), st.just("10.0.0.0/8"), paths.map(lambda p: f"unix:{p}"))


@given(st.lists(entries, max_size=4), paths)
def test_a_unix_peer_is_trusted_exactly_under_star_or_its_socket_named(given_peers: list[str], path: str) -> None:
    peers = TrustedPeers(peer_list(given_peers))
    scope = {"type": "http", "client": None, "server": (path, None)}
    assert peers.trusts(scope) == ("*" in given_peers or f"unix:{path}" in given_peers)


@given(st.lists(entries, max_size=4), paths)
def test_an_addressed_peer_is_judged_by_its_address(given_peers: list[str], path: str) -> None:
    peers = TrustedPeers(peer_list(given_peers))
    scope = {"type": "http", "client": ("192.0.2.7", 5000), "server": (path, None)}
    assert peers.trusts(scope) == ("*" in given_peers)


async def test_through_a_trusted_unix_socket_the_headers_give_client_and_scheme() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(client=scope["client"], scheme=scope["scheme"])

    scope = {"type": "http", "client": None, "server": ("/run/app.sock", None), "scheme": "http",
             "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")]}
    await ProxyHeaders(app, peer_list("unix:/run/app.sock"))(scope, None, None)
    assert seen == {"client": ("203.0.113.9", 0), "scheme": "https"}
    await ProxyHeaders(app, peer_list("127.0.0.1"))(dict(scope, client=None, scheme="http"), None, None)
    assert seen == {"client": None, "scheme": "http"}
