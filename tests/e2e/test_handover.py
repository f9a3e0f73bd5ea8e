"""Issue 24, item 1: a restart on a handed-over socket loses no request, on every engine and loop.

The launcher (this test) holds the listening socket and passes it as fd 3 (``LISTEN_FDS=1``), three
clients each open a new connection every 2 ms, and the service is restarted (SIGTERM, wait for the
exit, start the next on the same socket): every request gets its full 200. What a stopping process
did not accept waits in the kernel's queue for the next; what it accepted, it serves
(resync_fsm/serving/patches.py, resync_fsm/serving/hypercorn/patches/). The long run, beside bare
Hypercorn and Uvicorn: ``python -m bench.handover``.
"""

from __future__ import annotations

from .handover import restarts, resync_fsm

RESTARTS = 6


async def test_restarts_on_a_handed_over_socket_lose_no_request(server_env: dict[str, str]) -> None:
    engine, loop = server_env.get("RESYNC_FSM_SERVER_ENGINE", "auto"), server_env.get("RESYNC_FSM_SERVER_LOOP", "auto")
    tally, codes = await restarts(resync_fsm(engine, loop), RESTARTS, served_each=20)
    assert codes == [0] * (RESTARTS + 1)
    lost = sum(tally.lost.values())
    assert not lost, f"{lost} of {tally.ok + lost} lost: {dict(tally.lost)}"
    assert tally.ok >= 20 * (RESTARTS + 1)
