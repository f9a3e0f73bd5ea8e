"""Issue 22, reviewed as a new user coming from Uvicorn: one bind in two spellings, a user-only probe URL
through config, README's Uvicorn table."""

from __future__ import annotations

from pathlib import Path

import pytest

from resync_fsm.cli import main
from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import FIELDS, load_settings

from .test_cli_habits import _clean  # noqa: F401 - the same clean working directory and environment

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NOWHERE = Path("/nonexistent-dir")


@pytest.mark.parametrize("binds", [
    ["[::1]:8000", "[0:0:0:0:0:0:0:1]:8000"],  # one IPv6 address, two spellings
    ["unix:/tmp/review22.sock", "unix:/tmp/./review22.sock"],  # one socket file, two paths
])
def test_one_address_given_twice_in_different_spellings_is_a_78(binds: list[str]) -> None:
    # today: accepted; at bind time exit 70 "address already in use ... stop what holds it" (or "a live server
    # answers on this socket") about the runner's own first listener
    with pytest.raises(ConfigurationValidationError, match="given twice"):
        load_settings(flags={"server.bind": binds}, environ={}, cwd=NOWHERE)


def test_config_says_why_a_probe_url_with_credentials_is_not_written(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A URL's user part may be a token (https://TOKEN@host): it fails closed, as a secret, and the comment
    says so and where to write it (a user name alone is masked too: redaction cannot tell them apart)."""
    config = tmp_path / "in.toml"
    config.write_text('[[probes]]\nname = "db"\nkind = "postgres"\nurl = "postgresql://review22user@db:5432/orders"\n')
    assert main(["config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "review22user" not in out
    assert "holds credentials (a password or token), not shown" in out and "write it here" in out


def _uvicorn_row(flag: str) -> str:
    table = README.split("## Coming from Uvicorn", 1)[1].split("\n### ", 1)[0]
    return next(line for line in table.splitlines() if line.startswith(f"| `{flag}"))


def test_the_coming_from_uvicorn_table_states_the_loop_and_engine_defaults_the_code_has() -> None:
    # today: the --loop row says "the default is asyncio (no `auto` yet)", the --engine row "Hypercorn is the
    # default"; both fields default to auto (Uvicorn on uvloop where it is installed)
    defaults = {f.path: f.default for f in FIELDS}
    assert defaults["server.loop"] == "auto" and defaults["server.engine"] == "auto"
    loop, engine = _uvicorn_row("--loop"), _uvicorn_row("--engine")
    assert "auto" in loop.split("|")[1] and "no `auto` yet" not in loop, loop
    assert "Hypercorn is the default" not in engine, engine
