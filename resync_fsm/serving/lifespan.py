"""The app's ASGI lifespan, driven by resync_fsm itself on the app's loop (asyncio, uvloop or trio).

Follows the ASGI lifespan sub-protocol (spec 2.0, with ``state``) as Uvicorn's
``lifespan="auto"`` does: an app that raises before it has read its first message
does not speak lifespan and is served without it; an error after that is a failed
startup. ``mode="on"`` makes not speaking it an error, ``mode="off"`` never runs it
(``server.lifespan``). Running it here rather than inside the server lets the runner bind before
the app starts, cancel a startup when a stop arrives, name each phase's failure
(``LifespanError.phase``), and keep one behaviour for every backend. Written on
anyio, so one implementation serves every loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..errors import LifespanError, one_line
from ..logs import get_logger
from ..web.asgi import ASGIApp, Message

__all__ = ["Lifespan"]

log = get_logger("resync_fsm.lifespan")


class Lifespan:
    """Runs ``app``'s lifespan: :meth:`startup` before serving, :meth:`shutdown` after.

    ``state`` is the lifespan state dict (ASGI ``scope["state"]``) the app fills at
    startup; servers copy it into each request's scope. Timeouts are in seconds
    (``math.inf``: none). ``on_crash(error)`` is called if the app's lifespan task
    dies while serving (between a completed startup and the shutdown request).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        startup_timeout: float,
        shutdown_timeout: float,
        on_crash: Callable[[LifespanError], None] | None = None,
        mode: str = "auto",
    ) -> None:
        self.app = app
        self.mode = mode  # auto | on (not speaking lifespan is an error) | off (never run)
        self.startup_timeout = startup_timeout
        self.shutdown_timeout = shutdown_timeout
        self.on_crash = on_crash
        self.state: dict[str, Any] = {}
        self.supported = True
        self.started = False  # startup completed: shutdown must run
        self._phase = "startup"
        # made in startup() (mode off never makes it), closed when the app's lifespan task ends: it holds the
        # only two messages ever sent (startup, shutdown), so a send never waits for the app to read
        self._inbox_send: MemoryObjectSendStream[Message] | None = None
        self._inbox: MemoryObjectReceiveStream[Message] | None = None
        self._read_any = False
        self._answer: Message | None = None
        self._answered = anyio.Event()
        self._app_done = anyio.Event()
        self._app_error: BaseException | None = None
        self._shutting_down = False

    async def startup(self, task_group: anyio.abc.TaskGroup) -> None:
        """Start the app's lifespan task in ``task_group`` and wait for its startup.

        Raises :class:`LifespanError` (phase "startup") when the app sends
        ``lifespan.startup.failed``, raises after reading ``lifespan.startup``, or
        overruns ``startup_timeout``. Cancellation propagates (a stop during startup).
        """
        if self.mode == "off":
            self.supported = False
            return
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[Message](2)
        self._inbox_send.send_nowait({"type": "lifespan.startup"})
        task_group.start_soon(self._run_app)
        await self._wait("startup", self.startup_timeout)
        if self.supported:
            self.started = True
            self._phase = "serving"

    async def shutdown(self) -> None:
        """Ask the app to shut down and wait ``shutdown_timeout``; a no-op unless startup completed.

        Raises :class:`LifespanError` (phase "shutdown") on ``lifespan.shutdown.failed``,
        an exception, or an overrun.
        """
        if not self.started or self._shutting_down:
            return
        self._shutting_down = True
        self._phase = "shutdown"
        if self._app_done.is_set():  # it died while serving, already reported
            return
        self._answer, self._answered = None, anyio.Event()
        assert self._inbox_send is not None  # made by startup(), open while the app's task runs
        self._inbox_send.send_nowait({"type": "lifespan.shutdown"})
        await self._wait("shutdown", self.shutdown_timeout)

    async def _wait(self, phase: str, limit: float) -> None:
        """Wait for the app's answer to ``phase`` (or its end) for at most ``limit`` seconds."""
        with anyio.move_on_after(limit if math.isfinite(limit) else None) as scope:
            async with anyio.create_task_group() as group:

                async def until(event: anyio.Event) -> None:
                    await event.wait()
                    group.cancel_scope.cancel()

                group.start_soon(until, self._answered)
                group.start_soon(until, self._app_done)
        if scope.cancelled_caught:
            raise LifespanError(f"the app's lifespan {phase} did not complete within {limit:g} s "
                                f"(server.{phase}_timeout)", phase,
                                {"timeout": limit})
        answer = self._answer["type"] if self._answer is not None else None
        if answer == f"lifespan.{phase}.complete":
            return
        if answer == f"lifespan.{phase}.failed":
            message = str(self._answer.get("message", "")) if self._answer else ""
            raise LifespanError(f"the app's lifespan {phase} failed: {one_line(message) or 'no message'}", phase)
        if self._app_error is not None:
            if phase == "startup" and not self._read_any and self.mode != "on":
                self.supported = False  # raised before reading: it does not speak lifespan
                log.info("lifespan_unsupported", error=one_line(self._app_error))
                return
            raise self._error(phase, self._app_error)
        if phase == "startup":  # returned without answering: nothing to start or stop
            if self.mode == "on":
                raise LifespanError("the app returned without answering lifespan.startup "
                                    "(server.lifespan = on)", phase)
            self.supported = False
            return
        # returned during shutdown without answering: it has nothing left to stop

    def _error(self, phase: str, exc: BaseException) -> LifespanError:
        text = one_line(exc)
        log.debug("lifespan_traceback", phase=phase, exc_info=exc)
        what = "failed while serving" if phase == "serving" else f"{phase} failed"
        return LifespanError(f"the app's lifespan {what}: {text}", phase)

    async def _run_app(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except (Exception, SystemExit) as exc:  # sys.exit() in a lifespan is that phase's failure too
            self._app_error = exc if isinstance(exc, Exception) else RuntimeError(f"sys.exit({exc.code!r})")
        finally:
            self._app_done.set()
            if self._inbox_send is not None and self._inbox is not None:
                self._inbox_send.close()
                self._inbox.close()
            # A clean return while serving is allowed (some apps return once started); a raise is a crash.
            error = self._app_error
            if error is not None and self._phase == "serving" and not self._shutting_down and self.on_crash:
                self.on_crash(self._error("serving", error))

    async def _receive(self) -> Message:
        assert self._inbox is not None
        message = await self._inbox.receive()
        self._read_any = True
        return message

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        if kind not in ("lifespan.startup.complete", "lifespan.startup.failed",
                        "lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            raise RuntimeError(f"unexpected lifespan message {kind!r}")
        self._answer = message
        self._answered.set()
