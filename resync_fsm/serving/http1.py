"""What both engines' HTTP/1 patches check alike (:mod:`.hypercorn.patches.http1`,
:mod:`.uvicorn.patches.http1`; the list is tests/e2e/framing.py)."""

from __future__ import annotations

import re

__all__ = ["HOST"]

# RFC 9110 §7.2: Host = uri-host [ ":" port ]; uri-host an IP-literal, an IPv4 address or a reg-name
# (unreserved, pct-encoded, sub-delims; possibly empty). Matched whole (``HOST.fullmatch``).
HOST = re.compile(rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]*)(:[0-9]*)?")
