"""An app whose import does what only the main thread may: it sets a signal handler (``signal.signal``
raises ValueError off the main thread) and takes the event loop (``asyncio.get_event_loop()`` raises
RuntimeError in a thread with none); its responses say both worked: ``--app tests.e2e.main_thread_app:app``."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

from resync_fsm.app import complete_lifespan

from .apps import _respond

signal.signal(signal.SIGUSR2, lambda *_: None)
LOOP_AT_IMPORT = asyncio.get_event_loop()
IMPORTED_ON_MAIN = threading.current_thread() is threading.main_thread()


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await complete_lifespan(receive, send)
        return
    try:
        same = LOOP_AT_IMPORT is asyncio.get_running_loop()
    except RuntimeError:  # on trio
        same = False
    await _respond(send, 200, f"main={IMPORTED_ON_MAIN} same_loop={same}".encode())
