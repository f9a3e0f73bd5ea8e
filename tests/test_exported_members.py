"""The public API: ``__all__``, the lazy imports agreeing with the TYPE_CHECKING ones, and a user's
``mypy --strict`` seeing the real types."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import resync_fsm

PACKAGE = Path(resync_fsm.__file__).parent


def test_all_is_the_intended_public_api() -> None:
    assert set(resync_fsm.__all__) == {
        "__version__",
        "ConfigurationValidationError",
        "DependencyUnavailableError",
        "LifespanError",
        "Lifecycle",
        "ProbeResult",
        "ProbeSpec",
        "Runner",
        "Settings",
        "StartupError",
        "check_http",
        "check_tcp",
        "cleanup_resources",
        "get_validated_settings",
        "load_settings",
        "main",
        "symbol",
    }
    for name in resync_fsm.__all__:
        assert getattr(resync_fsm, name) is not None


def test_lazy_exports_match_what_type_checkers_see() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                seen.update({alias.name: imp.module for alias in imp.names})
    assert seen == resync_fsm._EXPORTS
    assert set(seen) | {"__version__"} == set(resync_fsm.__all__)


def test_a_users_mypy_strict_sees_the_real_types(tmp_path: Path) -> None:
    user = tmp_path / "user.py"
    user.write_text(
        "from resync_fsm import Runner, Settings, load_settings\n"
        "settings = load_settings(environ={})\n"
        "reveal_type(settings)\n"
        "reveal_type(Runner)\n"
        "timeout: float = settings.server.graceful_timeout\n"
        "wrong: str = settings.server.graceful_timeout\n"
        "from resync_fsm.loops import run\n"
        "from resync_fsm.serving.hypercorn import hypercorn_engine\n"
        "from resync_fsm.serving.uvicorn import uvicorn_engine\n"
        "reveal_type(run)\n"
        "reveal_type(hypercorn_engine)\n"
        "reveal_type(uvicorn_engine)\n"
        "async def load() -> Settings:\n    return load_settings(environ={})\n"
        "code: str = run(Runner(load).run, 'asyncio')\n"  # run returns the exit code, an int
    )
    # MYPYPATH: an editable install hides the package from mypy; an installed wheel does not
    env = {**os.environ, "MYPYPATH": str(PACKAGE.parent)}
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    out = result.stdout
    assert 'Revealed type is "resync_fsm.settings.model.Settings"' in out, out
    assert "resync_fsm.runner.core.Runner" in out, out
    # a real type, so a wrong annotation is caught (with Any it would pass silently)
    assert 'Incompatible types in assignment (expression has type "float", variable has type "str")' in out, out
    # the engine factories and loops.run: real signatures, no Any
    assert 'def (app: resync_fsm.web.health.HealthWrapper, settings: resync_fsm.settings.model.Settings, ' \
        'on_fault: def (BaseException)) -> resync_fsm.serving.hypercorn.server.HypercornServer' in out, out
    assert "-> resync_fsm.serving.uvicorn.server.UvicornServer" in out, out
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in out, out
