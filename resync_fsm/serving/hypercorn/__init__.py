"""The Hypercorn engine: any loop (asyncio, uvloop, trio), HTTP/1.1, HTTP/2 (ALPN, h2c), websockets.

- :mod:`.server` — :class:`HypercornServer` and its config from the settings
- :mod:`.patches` — every change made to Hypercorn's own code, applied by one call
"""

from __future__ import annotations

from .server import HypercornServer, hypercorn_config, hypercorn_engine

__all__ = ["HypercornServer", "hypercorn_config", "hypercorn_engine"]
