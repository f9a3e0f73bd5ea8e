"""The Uvicorn engine: asyncio or uvloop, HTTP/1.1 (httptools, else h11), websockets.

- :mod:`.server` — :class:`UvicornServer` and its config from the settings
- :mod:`.patches` — every change made to Uvicorn's process-wide state, applied by one call
"""

from __future__ import annotations

from .server import UVICORN_PAUSES, UvicornServer, uvicorn_config, uvicorn_engine

__all__ = ["UVICORN_PAUSES", "UvicornServer", "uvicorn_config", "uvicorn_engine"]
