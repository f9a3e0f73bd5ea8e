"""Binding every listener before the app starts, with bind failures named per address.

The runner binds first so that a port in use, a missing permission, an address
not on this machine or a bad unix path cost no app startup (issue "every stop
bounded"); the bound sockets are then handed to the server. A unix socket path
that a live server still answers on is "in use", as a TCP port would be: only a
stale socket file is replaced (Gunicorn and Hypercorn unlink it unconditionally).
A unix socket file this process created is removed when its listener is closed
(as Uvicorn and Gunicorn do), unless another file has taken its path meanwhile; a
socket handed over by ``fd://`` or socket activation belongs to whoever made it.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import weakref
from collections.abc import Sequence

import attrs

from ..errors import StartupError
from ..settings.model import Settings

__all__ = ["Listeners", "SocketOptions", "bind_all", "bind_error", "bind_listeners", "close_all", "local_addresses",
           "merged", "socket_options", "urls_of"]

_PUBLIC = "--bind (server.bind)"
_MANAGEMENT = "--management-bind (server.management_bind)"

_WHAT = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EADDRNOTAVAIL: "address not available on this machine",
    errno.ENOENT: "no such directory for the socket file",
    errno.ENOTDIR: "a part of the socket path is not a directory",
    errno.ENAMETOOLONG: "the socket path is too long",
    errno.EAFNOSUPPORT: "address family not supported here",
}


@attrs.define
class Listeners:
    """Bound, listening sockets: ``secure`` (TLS) and ``insecure`` ones, as every engine takes them."""

    secure: list[socket.socket] = attrs.Factory(list)
    insecure: list[socket.socket] = attrs.Factory(list)

    @property
    def sockets(self) -> list[socket.socket]:
        """Every socket, the secure ones first."""
        return [*self.secure, *self.insecure]


@attrs.frozen
class SocketOptions:
    """How every engine's listeners are made: ``backlog`` (connections), a unix socket file's ``umask``
    and ``owner`` (uid, gid), and whether they serve TLS (their URLs then say https)."""

    backlog: int = 2048
    umask: int | None = None
    owner: tuple[int, int] | None = None
    tls: bool = False


def socket_options(settings: Settings) -> SocketOptions:
    """The socket options of ``settings``: ``server.backlog``, ``server.unix_socket_mode`` (as a umask),
    ``server.unix_socket_owner``, TLS when ``tls`` has a certificate and key."""
    server = settings.server
    umask = 0o777 & ~server.unix_socket_mode if server.unix_socket_mode is not None else None
    return SocketOptions(server.backlog, umask, server.unix_socket_owner, settings.tls.enabled)


def _open_socket(bind: str, options: SocketOptions) -> socket.socket:
    """One socket bound to ``bind`` (``host:port``, ``[v6]:port``, ``unix:/path``, ``fd://N``), with the
    options Hypercorn's ``Config.create_sockets`` gives it (SO_REUSEADDR, TCP_NODELAY, non-blocking,
    inheritable), not yet listening; a stale unix socket file at the path is replaced."""
    if bind.startswith("fd://"):
        sock = socket.socket(fileno=int(bind[5:]))
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != socket.SOCK_STREAM:
            sock.detach()
            raise ValueError(f"fd {bind[5:]} is not a stream socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    elif bind.startswith("unix:"):
        path = bind[5:]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.remove(path)
        except FileNotFoundError:
            pass
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        previous = os.umask(options.umask) if options.umask is not None else None
        try:
            sock.bind(path)
        except BaseException:
            sock.close()
            raise
        finally:
            if previous is not None:
                os.umask(previous)
        if options.owner is not None:
            os.chown(path, *options.owner)
    else:
        plain = bind.replace("[", "").replace("]", "")
        host, port = plain.rsplit(":", 1)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
        except BaseException:
            sock.close()
            raise
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


def bind_error(bind: str, exc: BaseException, setting: str = _PUBLIC) -> StartupError:
    """A :class:`StartupError` (exit 70) naming ``bind`` and what went wrong, with advice (``setting``:
    the flag and field to change)."""
    code = getattr(exc, "errno", None)
    what = _WHAT.get(code, getattr(exc, "strerror", None) or str(exc)) if code is not None else str(exc)
    if isinstance(exc, socket.gaierror):
        what = f"the host does not resolve ({exc.strerror})"
    return StartupError(
        f"cannot bind {bind}: {what}. Choose another {setting} or stop what holds it.",
        {"bind": bind, "errno": code},
    )


def _live_unix_socket(path: str) -> bool:
    """Whether a server answers on the unix socket file at ``path``."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(path)
    except OSError:
        return False  # refused: a stale file left by a process that died
    finally:
        probe.close()
    return True


def bind_all(options: SocketOptions, binds: Sequence[str], setting: str = _PUBLIC) -> Listeners:
    """Bind and listen on every address of ``binds`` (``options.backlog``); all of them secure with TLS.

    Raises :class:`StartupError` naming the first address that fails (and ``setting``, the
    flag and field to change); every socket opened before it is closed again.
    """
    listeners = Listeners()
    group = listeners.secure if options.tls else listeners.insecure
    try:
        for bind in binds:
            if bind.startswith("unix:") and _live_unix_socket(bind[5:]):
                raise StartupError(
                    f"cannot bind {bind}: a live server answers on this socket. "
                    f"Stop it, or choose another {setting}.",
                    {"bind": bind, "errno": errno.EADDRINUSE},
                )
            try:
                sock = _open_socket(bind, options)
            except (OSError, ValueError) as exc:
                raise bind_error(bind, exc, setting) from exc
            group.append(sock)
            if bind.startswith("unix:"):
                _created[sock] = (bind[5:], os.stat(bind[5:]).st_ino)
            sock.listen(options.backlog)  # connections queue from now on, even during app startup
    except BaseException:
        close_all(listeners)
        raise
    return listeners


def bind_listeners(settings: Settings) -> tuple[Listeners, Listeners]:
    """The public listeners (``server.bind``) and the management ones (``server.management_bind``,
    often none), bound with the same socket options; on a failure none stays open."""
    options = socket_options(settings)
    public = bind_all(options, settings.server.bind)
    try:
        management = bind_all(options, settings.server.management_bind, _MANAGEMENT)
    except BaseException:
        close_all(public)
        raise
    return public, management


def merged(*groups: Listeners) -> Listeners:
    """One :class:`Listeners` holding every socket of ``groups``: what one server instance serves."""
    return Listeners([s for g in groups for s in g.secure], [s for g in groups for s in g.insecure])


def local_addresses(sockets: Listeners) -> list[tuple[str, int | None]]:
    """Each socket's local address as an ASGI ``scope["server"]`` gives it: ``(host, port)`` with the
    port resolved, ``(path, None)`` for a unix socket (Uvicorn's convention; :mod:`.hypercorn.patches` makes
    Hypercorn follow it)."""
    out: list[tuple[str, int | None]] = []
    for sock in sockets.sockets:
        name = sock.getsockname()
        out.append((name, None) if sock.family == socket.AF_UNIX else (name[0], name[1]))
    return out


# The unix socket files bind_all created: socket -> (path, inode), removed by close_all.
_created: weakref.WeakKeyDictionary[socket.socket, tuple[str, int]] = weakref.WeakKeyDictionary()


def close_all(sockets: Listeners) -> None:
    """Close every socket of ``sockets`` (idempotent); remove the unix socket files :func:`bind_all`
    created, each only while its path still holds the file it made."""
    for sock in sockets.sockets:
        sock.close()
        created = _created.pop(sock, None)
        if created is not None:
            path, inode = created
            try:
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
            except OSError:
                pass  # gone already, or not ours to remove


def urls_of(sockets: Listeners) -> list[str]:
    """``http://host:port`` (``https``) or ``unix:/path`` for each bound socket, as clients reach it."""
    urls = []
    for scheme, group in (("https", sockets.secure), ("http", sockets.insecure)):
        for sock in group:
            name = sock.getsockname()
            if sock.family == socket.AF_UNIX:
                urls.append(f"unix:{name}")
            elif sock.family == socket.AF_INET6:
                urls.append(f"{scheme}://[{name[0]}]:{name[1]}")
            else:
                urls.append(f"{scheme}://{name[0]}:{name[1]}")
    return urls
