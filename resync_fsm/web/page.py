"""The built-in status page: the lifecycle diagram with the current state highlighted,
the transition history, the probe table, the workers and a failed reload's error. Self-contained: the SVG ships in the
package, the page loads nothing from the network and refreshes itself."""

from __future__ import annotations

import html
import re
import time
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["highlight", "render_page"]

ACTIVE_FILL = "#ffd54f"


@cache
def lifecycle_svg() -> str:
    """diagrams/lifecycle.svg as shipped in the package (a test keeps the two equal)."""
    text = resources.files("resync_fsm").joinpath("lifecycle.svg").read_text(encoding="utf-8")
    return text[text.index("<svg"):]  # drop the XML prolog and doctype to inline it


def highlight(svg: str, state: str) -> str:
    """Fill the node whose title is ``state``."""
    pattern = re.compile(
        r'(<g id="node\d+" class="node">\s*<title>' + re.escape(state) + r"</title>.*?)</g>\s*</g>", re.S
    )
    return pattern.sub(
        lambda m: m[1].replace('fill="none"', f'fill="{ACTIVE_FILL}"', 1) + "</g>\n</g>", svg, count=1
    )


def _rows(cells: list[list[Any]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells)


def _choice(status: dict[str, Any]) -> str:
    """``engine uvicorn (auto: ...) on uvloop (auto: ...)``: how the app is served and why."""
    choice = status.get("choice") or {}
    if not choice.get("engine"):
        return f"loop {html.escape(str(status.get('loop', '')))}"
    return (f"engine {html.escape(choice['engine'])} ({html.escape(choice['engine_source'])}) on "
            f"{html.escape(choice['loop'])} ({html.escape(choice['loop_source'])})")


def render_page(status: dict[str, Any], *, refresh: int = 2) -> bytes:
    """The status page as HTML bytes for ``status`` (the ``/status`` document)."""
    state = str(status["state"])
    history = [
        [time.strftime("%H:%M:%S", time.localtime(m["at"])), m["event"], m["source"], m["dest"],
         f"{m['elapsed']:.3f} s"]
        for m in status["history"]
    ]
    probes = [
        [p["name"], p["kind"], p["target"], "yes" if p["critical"] else "no", p["status"], p["attempts"],
         "" if p["latency_ms"] is None else f"{p['latency_ms']:.0f} ms", p["reason"] or "", p["message"]]
        for p in status["probes"]
    ]
    workers = ""
    if "workers" in status:
        rows = [[w["pid"], w["generation"], w["state"], f"{w['uptime']:.0f} s", w["requests"], w["restarts"]]
                for w in status["workers"]]
        workers = ("<h2>Workers</h2>\n<table><tr><th>pid</th><th>generation</th><th>state</th><th>uptime</th>"
                   f"<th>requests</th><th>restarts</th></tr>\n{_rows(rows)}</table>")
    reload = status.get("reload")
    if reload and not reload["ok"]:
        workers += (f"<h2>Reload failed</h2>\n<p>generation {reload['generation']} did not start; generation "
                    f"{reload['serving_generation']} serves. The next change tries again.</p>\n"
                    f"<pre>{html.escape(str(reload['error']))}</pre>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh}">
<title>resync_fsm: {html.escape(state)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
td, th {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; font-size: .9rem; }}
.state {{ background: {ACTIVE_FILL}; padding: .1rem .4rem; border-radius: .3rem; }}
svg {{ max-width: 100%; height: auto; }}
</style></head>
<body>
<h1>resync_fsm <span class="state">{html.escape(state)}</span></h1>
<p>version {html.escape(str(status["version"]))} · {_choice(status)}
· up {status["uptime"]:.0f} s · ready: {status["ready"]}
· in flight: {status.get("in_flight", 0)} · binds: {html.escape(", ".join(status["binds"]))}
· management: {html.escape(", ".join(status.get("management", [])) or "none")}
· <a href="/status">/status</a> · <a href="/status?format=mermaid">Mermaid</a></p>
{highlight(lifecycle_svg(), state)}
<h2>Transitions</h2>
<table><tr><th>at</th><th>event</th><th>from</th><th>to</th><th>time in previous state</th></tr>
{_rows(history)}</table>
<h2>Probes</h2>
<table><tr><th>name</th><th>kind</th><th>target</th><th>critical</th><th>status</th><th>attempts</th>
<th>latency</th><th>reason</th><th>message</th></tr>
{_rows(probes)}</table>
{workers}
</body></html>
"""
    return page.encode()
