"""An app module whose import takes 10 s (a model loaded at import, say): ``--app tests.e2e.slow_import_app:app``.

It logs ``slow_import_started`` (a JSON line on stdout, as the runner's events are) before it sleeps, so
that a test signals it mid-import instead of guessing when."""

from __future__ import annotations

import json
import time

from .apps import hello_app

print(json.dumps({"event": "slow_import_started"}), flush=True)
time.sleep(10)

app = hello_app
