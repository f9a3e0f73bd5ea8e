"""Binding every listener before the app starts: TCP, unix and handed-over sockets, their URLs and local
addresses, bind failures named per address; a unix socket file this process created is removed when its
listener closes, nothing else."""

from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path

import attrs
import pytest

from resync_fsm.errors import StartupError
from resync_fsm.serving import binding
from resync_fsm.serving.binding import (
    SocketOptions,
    bind_all,
    bind_error,
    bind_listeners,
    close_all,
    local_addresses,
    merged,
    socket_options,
    urls_of,
)
from resync_fsm.settings import ServerSettings, Settings


def test_the_socket_file_bind_all_created_is_removed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    sockets = bind_all(SocketOptions(), [f"unix:{path}"])
    assert path.exists()
    close_all(sockets)
    assert not path.exists()
    close_all(sockets)  # idempotent


def test_a_file_that_took_the_path_meanwhile_is_left(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    sockets = bind_all(SocketOptions(), [f"unix:{path}"])
    path.unlink()
    path.write_text("another server's file")  # e.g. a second instance replaced our stale-looking socket
    close_all(sockets)
    assert path.read_text() == "another server's file"


def test_a_handed_over_socket_file_is_not_ours_to_remove(tmp_path: Path) -> None:
    # fd:// or systemd socket activation: the manager made the file, and keeps it across restarts
    path = tmp_path / "activated.sock"
    made = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    made.bind(str(path))
    made.listen()
    try:
        sockets = bind_all(SocketOptions(), [f"fd://{os.dup(made.fileno())}"])
        close_all(sockets)
        assert path.exists()
    finally:
        made.close()


# --- TCP, fd://, errors -------------------------------------------------------------------------------


def _connects(sock: socket.socket) -> bool:
    """Whether a client connects to ``sock`` (listening: the kernel completes the handshake)."""
    family, address = sock.family, sock.getsockname()
    with socket.socket(family, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        return client.connect_ex(address if family == socket.AF_UNIX else address[:2]) == 0


def test_tcp_v4_and_v6_on_port_0_listen_with_the_options_every_engine_expects() -> None:
    sockets = bind_all(SocketOptions(), ["127.0.0.1:0", "[::1]:0"])
    try:
        v4, v6 = sockets.insecure
        assert (v4.family, v6.family) == (socket.AF_INET, socket.AF_INET6) and sockets.secure == []
        for sock in sockets.sockets:
            assert sock.getsockname()[1] != 0 and _connects(sock)
            assert not sock.getblocking() and sock.get_inheritable()
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert urls_of(sockets) == [f"http://127.0.0.1:{v4.getsockname()[1]}", f"http://[::1]:{v6.getsockname()[1]}"]
        assert local_addresses(sockets) == [("127.0.0.1", v4.getsockname()[1]), ("::1", v6.getsockname()[1])]
    finally:
        close_all(sockets)
    assert all(s.fileno() == -1 for s in sockets.sockets)
    close_all(sockets)  # idempotent


def test_an_fd_of_a_listening_socket_is_served_as_it_is() -> None:
    with socket.create_server(("127.0.0.1", 0)) as made:
        sockets = bind_all(SocketOptions(), [f"fd://{os.dup(made.fileno())}"])
        try:
            (sock,) = sockets.insecure
            assert sock.getsockname() == made.getsockname() and _connects(sock)
            assert urls_of(sockets) == [f"http://127.0.0.1:{made.getsockname()[1]}"]
        finally:
            close_all(sockets)


def test_an_fd_of_a_udp_socket_is_a_startup_error_naming_the_bind_and_is_left_open() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        bind = f"fd://{udp.fileno()}"
        with pytest.raises(StartupError, match=f"cannot bind {bind}: fd {udp.fileno()} is not a stream socket"):
            bind_all(SocketOptions(), [bind])
        assert udp.getsockname()[1] != 0  # still its owner's


def test_a_port_in_use_names_the_address_and_the_flag_to_change() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        bind = f"127.0.0.1:{holder.getsockname()[1]}"
        with pytest.raises(StartupError) as info:
            bind_all(SocketOptions(), [bind])
        assert str(info.value) == (f"cannot bind {bind}: address already in use. "
                                   "Choose another --bind (server.bind) or stop what holds it.")
        assert info.value.details == {"bind": bind, "errno": errno.EADDRINUSE} and info.value.exit_code == 70
        settings = Settings(server=ServerSettings(bind=["127.0.0.1:0"], management_bind=[bind]))
        with pytest.raises(StartupError, match=r"--management-bind \(server.management_bind\)"):
            bind_listeners(settings)


@pytest.mark.parametrize(("code", "what"), [
    (errno.EADDRINUSE, "address already in use"),
    (errno.EACCES, "permission denied"),
    (errno.EPERM, "permission denied"),
    (errno.EADDRNOTAVAIL, "address not available on this machine"),
    (errno.ENOENT, "no such directory for the socket file"),
    (errno.ENOTDIR, "a part of the socket path is not a directory"),
    (errno.ENAMETOOLONG, "the socket path is too long"),
    (errno.EAFNOSUPPORT, "address family not supported here"),
    (errno.EMFILE, os.strerror(errno.EMFILE)),  # not in the table: the system's words
])
def test_bind_error_says_what_each_errno_means(code: int, what: str) -> None:
    error = bind_error("127.0.0.1:80", OSError(code, os.strerror(code)))
    assert str(error).startswith(f"cannot bind 127.0.0.1:80: {what}. Choose another --bind")
    assert error.details == {"bind": "127.0.0.1:80", "errno": code}


def test_bind_error_for_an_unresolvable_host_or_no_errno() -> None:
    unresolved = bind_error("nowhere:80", socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert "cannot bind nowhere:80: the host does not resolve (Name or service not known)." in str(unresolved)
    assert str(bind_error("x", ValueError("odd"))).startswith("cannot bind x: odd.")


def test_a_missing_directory_for_a_unix_socket_is_named(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="no such directory for the socket file"):
        bind_all(SocketOptions(), [f"unix:{tmp_path}/missing/app.sock"])


# --- unix sockets: live, stale, mode, owner ----------------------------------------------------------


def test_a_unix_socket_a_live_server_answers_on_is_in_use(tmp_path: Path) -> None:
    path = tmp_path / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(path))
        live.listen()
        with pytest.raises(StartupError, match="a live server answers on this socket") as info:
            bind_all(SocketOptions(), [f"unix:{path}"])
        assert info.value.details["errno"] == errno.EADDRINUSE
        assert path.exists()  # not taken from it


def test_a_stale_unix_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # the file stays when its process dies; nothing listens on it
    sockets = bind_all(SocketOptions(), [f"unix:{path}"])
    try:
        (sock,) = sockets.insecure
        assert _connects(sock)
        assert urls_of(sockets) == [f"unix:{path}"] and local_addresses(sockets) == [(str(path), None)]
    finally:
        close_all(sockets)


def test_a_regular_file_at_the_path_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    path.write_text("not a socket")
    with pytest.raises(StartupError, match=f"cannot bind unix:{path}: address already in use"):
        bind_all(SocketOptions(), [f"unix:{path}"])
    assert path.read_text() == "not a socket"


def test_the_unix_socket_mode_and_owner_are_applied(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    owner = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    umask = os.umask(0o022)
    os.umask(umask)
    options = socket_options(Settings(server=ServerSettings(unix_socket_mode="660")))
    assert options.umask == 0o117
    sockets = bind_all(attrs.evolve(options, owner=owner), [f"unix:{path}"])
    try:
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o660 and (info.st_uid, info.st_gid) == owner
        assert os.umask(umask) == umask  # the process's umask is restored
    finally:
        close_all(sockets)


# --- TLS, groups, failures part-way ------------------------------------------------------------------


def test_with_tls_every_socket_is_secure_and_its_url_says_https() -> None:
    sockets = bind_all(SocketOptions(tls=True), ["127.0.0.1:0", "[::1]:0"])
    try:
        assert sockets.insecure == [] and len(sockets.secure) == 2
        assert [u.split("://")[0] for u in urls_of(sockets)] == ["https", "https"]
    finally:
        close_all(sockets)


def test_merged_keeps_secure_before_insecure_in_order(tmp_path: Path) -> None:
    plain = bind_all(SocketOptions(), ["127.0.0.1:0", f"unix:{tmp_path}/a.sock"])
    secure = bind_all(SocketOptions(tls=True), ["127.0.0.1:0"])
    try:
        both = merged(plain, secure)
        assert both.secure == secure.secure and both.insecure == plain.insecure
        assert both.sockets == [*secure.secure, *plain.insecure]
        assert urls_of(both)[0].startswith("https://") and urls_of(both)[2] == f"unix:{tmp_path}/a.sock"
    finally:
        close_all(merged(plain, secure))
    assert not (tmp_path / "a.sock").exists()


def test_every_socket_is_closed_when_a_later_bind_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[socket.socket] = []
    real = binding._open_socket

    def recording(bind: str, options: SocketOptions) -> socket.socket:
        opened.append(real(bind, options))
        return opened[-1]

    monkeypatch.setattr(binding, "_open_socket", recording)
    with socket.create_server(("127.0.0.1", 0)) as holder:
        busy = f"127.0.0.1:{holder.getsockname()[1]}"
        with pytest.raises(StartupError, match=busy):
            bind_all(SocketOptions(), ["127.0.0.1:0", f"unix:{tmp_path}/first.sock", busy])
        assert len(opened) == 2 and all(s.fileno() == -1 for s in opened)
        assert not (tmp_path / "first.sock").exists()
        opened.clear()
        with pytest.raises(StartupError, match="server.management_bind"):
            bind_listeners(Settings(server=ServerSettings(bind=["127.0.0.1:0"], management_bind=[busy])))
        assert len(opened) == 1 and opened[0].fileno() == -1  # the public one, closed again
