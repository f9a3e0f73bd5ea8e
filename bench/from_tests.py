"""What the benchmarks share with the tests, one definition each: the only module of bench/ that imports ``tests``.

Free loopback ports and endpoints that never answer (tests/servers.py), the load behind a lagging balancer
(tests/drainload.py), the rolling restart behind HAProxy and its tagged app (tests/e2e/haproxy.py), restarts on a
handed-over socket (tests/e2e/handover.py), and the stand-in for the runner's health view (tests/fakes.py).
"""

from __future__ import annotations

from tests.drainload import drain_under_load
from tests.e2e.handover import BARE as BARE_ON_FD3
from tests.e2e.handover import restarts
from tests.e2e.handover import resync_fsm as resync_fsm_on_fd3
from tests.e2e.haproxy import APP as TAGGED_APP
from tests.e2e.haproxy import LIMIT, Load, Replica, fetch, haproxy, haproxy_binary, roll
from tests.fakes import FakeView
from tests.servers import free_port, silent_endpoints

__all__ = ["BARE_ON_FD3", "LIMIT", "TAGGED_APP", "FakeView", "Load", "Replica", "drain_under_load", "fetch",
           "free_port", "haproxy", "haproxy_binary", "restarts", "resync_fsm_on_fd3", "roll", "silent_endpoints"]
