"""The redis and postgres probes against the real servers."""

from __future__ import annotations

import pytest
import trio

from resync_fsm.probes import ProbeBoard, ProbeFailure, open_attempt, probe_all
from resync_fsm.probes.postgres import attempt_postgres
from resync_fsm.probes.redis import attempt_redis
from resync_fsm.settings import ProbeSpec

from .services import postgres_server, redis_server  # noqa: F401 - fixtures


def spec(kind: str, url: str) -> ProbeSpec:
    return ProbeSpec(name=kind, kind=kind, url=url)


async def test_redis_right_password(redis_server: tuple[int, str]) -> None:  # noqa: F811
    port, password = redis_server
    with trio.fail_after(10):
        assert await attempt_redis(spec("redis", f"redis://:{password}@127.0.0.1:{port}/1")) == "PONG"
        assert await attempt_redis(spec("redis", f"redis://default:{password}@127.0.0.1:{port}")) == "PONG"


@pytest.mark.parametrize("userinfo", [":wrong-password@", ""])
async def test_redis_wrong_or_missing_password(redis_server: tuple[int, str], userinfo: str) -> None:  # noqa: F811
    port, _ = redis_server
    with pytest.raises(ProbeFailure) as caught, trio.fail_after(10):
        await attempt_redis(spec("redis", f"redis://{userinfo}127.0.0.1:{port}"))
    assert caught.value.reason == "auth"
    assert "wrong-password" not in caught.value.message


async def test_postgres_accepting_connections(postgres_server: int) -> None:  # noqa: F811
    with trio.fail_after(10):
        message = await attempt_postgres(spec("postgres", f"postgresql://postgres@127.0.0.1:{postgres_server}/postgres"))
        assert message == "accepting connections"
        # an unknown role is still a server that accepts connections (as pg_isready says)
        await attempt_postgres(spec("postgres", f"postgresql://nobody@127.0.0.1:{postgres_server}/none"))


async def test_redis_probe_against_postgres_is_protocol(postgres_server: int) -> None:  # noqa: F811
    with pytest.raises(ProbeFailure) as caught, trio.fail_after(10):
        await attempt_redis(spec("redis", f"redis://127.0.0.1:{postgres_server}"))
    assert caught.value.reason == "protocol"


async def test_postgres_probe_against_redis_fails_within_its_timeout(redis_server: tuple[int, str]) -> None:  # noqa: F811
    # Redis waits for a newline that a startup packet never sends: no answer, so the
    # attempt's own timeout ends it — a failure, never a success and never a hang.
    port, _ = redis_server
    probe = ProbeSpec(name="pg", kind="postgres", url=f"postgresql://127.0.0.1:{port}", timeout=0.5)
    board = ProbeBoard([probe])
    with trio.fail_after(10):
        async with open_attempt((probe,)) as attempt:
            await probe_all(board, attempt, deadline=trio.current_time() + 0.6)
    assert (board.results["pg"].status, board.results["pg"].reason) == ("fail", "timeout")
