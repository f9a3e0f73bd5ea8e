from __future__ import annotations

import resync_fsm


def test_all_is_the_intended_public_api() -> None:
    assert set(resync_fsm.__all__) == {
        "__version__",
        "ConfigurationValidationError",
        "DependencyUnavailableError",
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
