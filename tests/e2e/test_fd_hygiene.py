"""No file descriptor is left open after probing real sockets, on any path (cancellation included)."""

from __future__ import annotations

import os

import trio

from resync_fsm.probes import ProbeBoard, open_attempt, probe_all
from resync_fsm.settings import ProbeSpec

from ..servers import FakeRedis, HttpRecorder, free_port, serving, silent_endpoints


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def probe_everything(deadline_in: float) -> ProbeBoard:
    with silent_endpoints(1) as (silent,):
        async with serving(HttpRecorder({"GET": 200})) as http, serving(FakeRedis()) as redis:
            specs = tuple(
                [ProbeSpec(name=f"silent{i}", kind="tcp", host="127.0.0.1", port=silent, timeout=0.3)
                 for i in range(20)]
                + [ProbeSpec(name=f"refused{i}", kind="tcp", host="127.0.0.1", port=free_port()) for i in range(20)]
                + [ProbeSpec(name=f"http{i}", kind="http", url=f"http://127.0.0.1:{http}/") for i in range(20)]
                + [ProbeSpec(name=f"redis{i}", kind="redis", url=f"redis://127.0.0.1:{redis}") for i in range(20)]
                + [ProbeSpec(name="http-silent", kind="http", url=f"http://127.0.0.1:{silent}/", timeout=0.3)]
            )
            board = ProbeBoard(specs)
            async with open_attempt(specs) as attempt:
                with trio.move_on_after(deadline_in):
                    await probe_all(board, attempt, deadline=trio.current_time() + 0.5)
            return board


async def test_no_descriptor_left_after_probing() -> None:
    before = open_fds()
    board = await probe_everything(deadline_in=10)
    assert board.results["http0"].ok and board.results["redis0"].ok
    assert board.results["silent0"].reason == "timeout" and board.results["refused0"].reason == "refused"
    assert open_fds() == before


async def test_no_descriptor_left_when_cancelled_mid_attempt() -> None:
    before = open_fds()
    board = await probe_everything(deadline_in=0.1)  # cancelled while the silent ones connect
    assert board.results["silent0"].status == "skipped"
    assert open_fds() == before
