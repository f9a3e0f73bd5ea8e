"""Issue 25: ``server.engine = "auto"`` and ``server.loop = "auto"``, the defaults, resolved once at validation.

The rule (settings/auto.py): uvloop where installed, else asyncio; Uvicorn, unless the loop is trio or
the settings ask for HTTP/2 (TLS, or ``server.h2c = true`` given), then Hypercorn. An explicit choice
is never changed, and one an engine cannot honour stays a 78 naming both fields.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import ServerSettings, Settings, load_settings
from resync_fsm.settings.auto import resolve
from tests.certs import make_certs

NOWHERE = Path("/nonexistent-dir")


def load(environ: dict[str, str] | None = None, flags: dict[str, object] | None = None) -> Settings:
    return load_settings(environ=environ or {}, flags=flags, cwd=NOWHERE)


def test_with_no_option_an_asyncio_app_gets_uvicorn_on_uvloop_and_the_reason() -> None:
    settings = load()
    assert (settings.server.engine, settings.server.loop) == ("uvicorn", "uvloop")
    assert settings.sources["server.loop"] == "auto: uvloop is installed"
    assert settings.sources["server.engine"].startswith("auto: ") and "Uvicorn" in settings.sources["server.engine"]
    assert ServerSettings().engine == "uvicorn" and ServerSettings().loop == "uvloop"  # built in code: the same


def values(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"server.loop": "auto", "server.engine": "auto", "server.h2c": True,
                               "tls.certfile": None, "tls.keyfile": None}
    base.update({key.replace("__", "."): value for key, value in overrides.items()})
    return base


def test_without_uvloop_the_loop_is_asyncio_and_without_uvicorn_the_engine_hypercorn() -> None:
    found = values()
    why = resolve(found, (), has=lambda module: module not in ("uvloop", "uvicorn"))
    assert (found["server.loop"], found["server.engine"]) == ("asyncio", "hypercorn")
    assert why == {"server.loop": "auto: uvloop is not installed", "server.engine": "auto: uvicorn is not installed"}


@pytest.mark.parametrize(("overrides", "given_paths", "reason"), [
    ({"server__loop": "trio"}, {"server.loop"}, "trio"),
    ({"tls__certfile": "c.pem", "tls__keyfile": "k.pem"}, {"tls.certfile", "tls.keyfile"}, "TLS"),
    ({"server__h2c": True}, {"server.h2c"}, "h2c"),
], ids=["trio", "tls", "h2c"])
def test_hypercorn_where_only_it_can_serve_what_was_asked(
        overrides: dict[str, object], given_paths: set[str], reason: str) -> None:
    found = values(**overrides)
    why = resolve(found, given_paths)
    assert found["server.engine"] == "hypercorn" and reason in why["server.engine"]


def test_the_default_h2c_and_an_explicit_no_h2c_keep_uvicorn() -> None:
    for h2c, given_paths in ((True, set()), (False, {"server.h2c"})):
        found = values(server__h2c=h2c)
        resolve(found, given_paths)
        assert found["server.engine"] == "uvicorn"


def test_tls_and_explicit_h2c_pick_hypercorn_through_the_loader(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    tls = load(flags={"tls.certfile": str(certs.cert), "tls.keyfile": str(certs.key)})
    assert (tls.server.engine, tls.server.loop) == ("hypercorn", "uvloop")
    h2c = load({"RESYNC_FSM_SERVER_H2C": "true"})
    assert h2c.server.engine == "hypercorn" and "h2c" in h2c.sources["server.engine"]


ENGINES, LOOPS = ("auto", "hypercorn", "uvicorn"), ("auto", "asyncio", "uvloop", "trio")


@given(engine=st.sampled_from(ENGINES), loop=st.sampled_from(LOOPS), by=st.sampled_from(["env", "flag"]))
def test_an_explicit_choice_is_kept_and_one_no_engine_honours_is_78_naming_both(engine: str, loop: str,
                                                                                by: str) -> None:
    chosen = {"server.engine": engine, "server.loop": loop}
    environ = {f"RESYNC_FSM_{k.upper().replace('.', '_')}": v for k, v in chosen.items()} if by == "env" else {}
    if engine == "uvicorn" and loop == "trio":
        with pytest.raises(ConfigurationValidationError) as info:
            load(environ, None if by == "env" else chosen)
        assert "server.engine" in str(info.value) and "server.loop" in str(info.value)
        return
    server = (settings := load(environ, None if by == "env" else chosen)).server
    assert server.engine == (engine if engine != "auto" else "hypercorn" if server.loop == "trio" else "uvicorn")
    assert server.loop == (loop if loop != "auto" else "uvloop")
    for path, asked in chosen.items():
        assert settings.sources[path].startswith("auto: ") == (asked == "auto")


def test_config_shows_the_resolved_value_and_its_reason() -> None:
    out = subprocess.run([sys.executable, "-m", "resync_fsm", "config", "--json"], capture_output=True,
                         check=True, cwd="/", env={"PATH": "/usr/bin"}).stdout
    shown = json.loads(out)
    assert shown["settings"]["server"]["engine"] == "uvicorn" and shown["settings"]["server"]["loop"] == "uvloop"
    assert shown["sources"]["server.engine"].startswith("auto: ")
    assert shown["sources"]["server.loop"] == "auto: uvloop is installed"
