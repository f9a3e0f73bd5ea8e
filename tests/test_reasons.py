"""Every reason code, from the error that produces it, and carried through the fan-out on MockClock."""

from __future__ import annotations

import errno
import random
import socket
import ssl

import httpx
import pytest
import trio

from resync_fsm.probes import REASONS, ProbeBoard, ProbeFailure, open_attempt, probe_all
from resync_fsm.probes.http import _failure
from resync_fsm.probes.tcp import reason_for_oserror
from resync_fsm.settings import ProbeSpec

from .fakes import ScriptedAttempts, spec


def trio_wrapped(*causes: OSError) -> OSError:
    """What trio.open_tcp_stream raises when every address failed."""
    error = OSError("all attempts to connect to host:1 failed")
    error.__cause__ = ExceptionGroup("attempts", list(causes))
    return error


@pytest.mark.parametrize(("error", "reason"), [
    (trio_wrapped(OSError(errno.ECONNREFUSED, "Connection refused")), "refused"),
    (trio_wrapped(OSError(errno.ETIMEDOUT, "timed out")), "timeout"),
    (trio_wrapped(OSError(errno.ENETUNREACH, "Network is unreachable")), "unreachable"),
    (trio_wrapped(OSError(errno.EHOSTUNREACH, "No route to host")), "unreachable"),
    (trio_wrapped(OSError(errno.EPERM, "Operation not permitted")), "network"),
    (trio_wrapped(OSError(errno.EPERM, "x"), OSError(errno.ECONNREFUSED, "y")), "refused"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "dns"),
    (OSError(errno.ECONNREFUSED, "Connection refused"), "refused"),
])
def test_connect_errors(error: OSError, reason: str) -> None:
    assert reason_for_oserror(error)[0] == reason


def _caused(exc: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(("error", "reason"), [
    (httpx.ConnectTimeout("slow"), "timeout"),
    (httpx.ReadTimeout("slow"), "timeout"),
    (httpx.TooManyRedirects("loop"), "protocol"),
    (httpx.RemoteProtocolError("illegal status line"), "protocol"),
    (httpx.UnsupportedProtocol("ftp"), "protocol"),
    (_caused(httpx.ConnectError("x"), ssl.SSLCertVerificationError("certificate verify failed")), "tls"),
    (_caused(httpx.ConnectError("x"), OSError(errno.ECONNREFUSED, "refused")), "refused"),
    (_caused(httpx.ConnectError("x"), socket.gaierror(socket.EAI_NONAME, "unknown")), "dns"),
    (httpx.ConnectError("no cause"), "network"),
])
def test_http_errors(error: httpx.HTTPError, reason: str) -> None:
    assert _failure(error).reason == reason


async def test_an_unknown_kind_is_not_configured() -> None:
    odd = ProbeSpec.__new__(ProbeSpec)  # bypass validation: as if a future kind reached an old runner
    object.__setattr__(odd, "name", "x")
    object.__setattr__(odd, "kind", "smtp")
    async with open_attempt(()) as attempt:
        with pytest.raises(ProbeFailure) as caught:
            await attempt(odd)
    assert caught.value.reason == "not_configured"


@pytest.mark.parametrize("reason", [r for r in REASONS if r not in ("timeout", "cancelled")])
async def test_each_reason_reaches_the_result(reason: str, autojump_clock: trio.abc.Clock) -> None:
    board = ProbeBoard([spec()])
    await probe_all(board, ScriptedAttempts(lambda name, n: reason), deadline=trio.current_time() + 2,
                    rng=random.Random(3))
    result = board.results["db"]
    assert (result.status, result.reason) == ("fail", reason)
    assert result.attempts > 1  # retried until the deadline
