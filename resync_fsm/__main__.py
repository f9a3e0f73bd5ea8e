"""``python -m resync_fsm``: keep early signals (see :mod:`resync_fsm.signal_buffer`), then the CLI."""

import sys

from .signal_buffer import install

install()
from .cli import main  # noqa: E402 - after install(): a Ctrl-C while importing is kept, not a traceback

sys.exit(main())
