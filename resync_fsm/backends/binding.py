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

from hypercorn.config import Config, Sockets

from ..errors import StartupError
from ..settings.model import Settings

__all__ = ["bind_all", "bind_error", "bind_listeners", "close_all", "local_addresses", "merged", "socket_config",
           "urls_of"]

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


def socket_config(settings: Settings) -> Config:
    """The socket options of every engine's listeners, as a Hypercorn :class:`Config` (whose
    ``create_sockets`` binds them): binds, backlog, a unix socket's mode (as a umask) and owner,
    and TLS (so that the sockets are the secure ones and their URLs say https)."""
    server, tls = settings.server, settings.tls
    config = Config()
    config.bind = list(server.bind)
    config.backlog = server.backlog
    if server.unix_socket_mode is not None:
        config.umask = 0o777 & ~server.unix_socket_mode
    if server.unix_socket_owner is not None:
        config.user, config.group = server.unix_socket_owner
    if tls.enabled:
        config.certfile, config.keyfile = tls.certfile, tls.keyfile
    return config


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


def bind_all(config: Config, binds: Sequence[str], setting: str = _PUBLIC) -> Sockets:
    """Bind and listen on every address of ``binds`` (Hypercorn's socket options, ``config.backlog``).

    Raises :class:`StartupError` naming the first address that fails (and ``setting``, the
    flag and field to change); every socket opened before it is closed again.
    """
    secure: list[socket.socket] = []
    insecure: list[socket.socket] = []
    try:
        for bind in binds:
            if bind.startswith("unix:") and _live_unix_socket(bind[5:]):
                raise StartupError(
                    f"cannot bind {bind}: a live server answers on this socket. "
                    f"Stop it, or choose another {setting}.",
                    {"bind": bind, "errno": errno.EADDRINUSE},
                )
            config.bind = [bind]
            try:
                sockets = config.create_sockets()
            except (OSError, ValueError) as exc:
                raise bind_error(bind, exc, setting) from exc
            secure += sockets.secure_sockets
            insecure += sockets.insecure_sockets
            if bind.startswith("unix:"):
                for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
                    _created[sock] = (bind[5:], os.stat(bind[5:]).st_ino)
            for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
                sock.listen(config.backlog)  # connections queue from now on, even during app startup
    except BaseException:
        close_all(Sockets(secure, insecure, []))
        raise
    finally:
        config.bind = list(binds)
    return Sockets(secure, insecure, [])


def bind_listeners(config: Config, settings: Settings) -> tuple[Sockets, Sockets]:
    """The public listeners (``server.bind``) and the management ones (``server.management_bind``,
    often none), bound with the same socket options; on a failure none stays open."""
    public = bind_all(config, settings.server.bind)
    try:
        management = bind_all(config, settings.server.management_bind, _MANAGEMENT)
    except BaseException:
        close_all(public)
        raise
    finally:
        config.bind = list(settings.server.bind)
    return public, management


def merged(*groups: Sockets) -> Sockets:
    """One :class:`Sockets` holding every socket of ``groups``: what one server instance serves."""
    return Sockets([s for g in groups for s in g.secure_sockets], [s for g in groups for s in g.insecure_sockets],
                   [s for g in groups for s in g.quic_sockets])


def local_addresses(sockets: Sockets) -> list[tuple[str, int | None]]:
    """Each socket's local address as an ASGI ``scope["server"]`` gives it: ``(host, port)`` with the
    port resolved, ``(path, None)`` for a unix socket (Uvicorn's convention; :mod:`.unix_scope` makes
    Hypercorn follow it)."""
    out: list[tuple[str, int | None]] = []
    for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
        name = sock.getsockname()
        out.append((name, None) if sock.family == socket.AF_UNIX else (name[0], name[1]))
    return out


# The unix socket files bind_all created: socket -> (path, inode), removed by close_all.
_created: weakref.WeakKeyDictionary[socket.socket, tuple[str, int]] = weakref.WeakKeyDictionary()


def close_all(sockets: Sockets) -> None:
    """Close every socket of ``sockets`` (idempotent); remove the unix socket files :func:`bind_all`
    created, each only while its path still holds the file it made."""
    for sock in (*sockets.secure_sockets, *sockets.insecure_sockets, *sockets.quic_sockets):
        sock.close()
        created = _created.pop(sock, None)
        if created is not None:
            path, inode = created
            try:
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
            except OSError:
                pass  # gone already, or not ours to remove


def urls_of(sockets: Sockets) -> list[str]:
    """``http://host:port`` (``https``) or ``unix:/path`` for each bound socket, as clients reach it."""
    urls = []
    for scheme, group in (("https", sockets.secure_sockets), ("http", sockets.insecure_sockets)):
        for sock in group:
            name = sock.getsockname()
            if sock.family == socket.AF_UNIX:
                urls.append(f"unix:{name}")
            elif sock.family == socket.AF_INET6:
                urls.append(f"{scheme}://[{name[0]}]:{name[1]}")
            else:
                urls.append(f"{scheme}://{name[0]}:{name[1]}")
    return urls
