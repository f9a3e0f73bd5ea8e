"""The entry point of one worker process of ``server.workers > 1``: ``python -m resync_fsm.worker``.

Started by the supervisor (:mod:`resync_fsm.serving.workers.pool`) with its spec
pickled on stdin; what the worker does is :func:`resync_fsm.serving.workers.child.serve`.
SIGINT, SIGTERM and SIGHUP are ignored: the supervisor decides (a terminal's Ctrl-C
or systemd's ``KillMode=control-group`` reach every process; the supervisor drains them).
"""

from __future__ import annotations

import pickle
import signal
import sys
from functools import partial

__all__ = ["main"]


def main() -> int:
    """Read the spec from stdin, then serve on ``server.loop``; returns the exit code."""
    from . import loops
    from .compat import remember_validated_settings
    from .logs import configure_logging
    from .redaction import register_secret
    from .serving.workers.child import serve
    from .settings.fields import FIELDS

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # the supervisor decides (see the module)
    spec = pickle.load(sys.stdin.buffer)  # from the supervisor's pipe: the same code, the same user
    sys.stdin.close()
    settings = spec["settings"]
    configure_logging(settings.log.level, settings.log.format, config=settings.log.config)
    for field in FIELDS:
        if field.secret:
            register_secret(getattr(getattr(settings, field.section), field.key))
    remember_validated_settings(settings)
    code: int = loops.run(partial(serve, spec), settings.server.loop)
    return code


if __name__ == "__main__":
    sys.exit(main())
