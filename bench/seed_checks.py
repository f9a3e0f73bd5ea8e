"""The two TCP checks quoted in shared/seeds/000_a074cfbeb9a78b02.txt, as whole processes.

Usage: python -m bench.seed_checks threadpool|asyncio TIMEOUT HOST:PORT...
Prints how many endpoints were reachable. The code of each check is the
seed's, unchanged (including the asyncio one never closing what it opens).
"""

from __future__ import annotations

import asyncio
import socket
import sys


async def _check_tcp_threadpool(host: str, port: int, timeout: float = 3.0) -> bool:
    """Asynchronously check if a TCP port is open."""
    def _connect() -> bool:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            return sock.connect_ex((host, port)) == 0
        finally:
            sock.close()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _connect)


async def _check_tcp_asyncio(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        await asyncio.wait_for(asyncio.open_connection(host, port), timeout=timeout)
        return True
    except Exception:
        return False


async def main(kind: str, timeout: float, targets: list[tuple[str, int]]) -> int:
    check = _check_tcp_threadpool if kind == "threadpool" else _check_tcp_asyncio
    results = await asyncio.gather(*(check(host, port, timeout) for host, port in targets))
    print(sum(results))
    return 0


if __name__ == "__main__":
    kind, timeout = sys.argv[1], float(sys.argv[2])
    targets = [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in sys.argv[3:]]
    sys.exit(asyncio.run(main(kind, timeout, targets)))
