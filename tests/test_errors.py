from __future__ import annotations

import pytest

from resync_fsm.errors import (
    ConfigurationValidationError,
    DependencyUnavailableError,
    StartupError,
    exit_code_for,
)


def test_resync_names_and_attributes() -> None:
    error = DependencyUnavailableError("redis down", "redis", {"attempts": 3})
    assert (error.message, error.dependency, error.details) == ("redis down", "redis", {"attempts": 3})
    assert isinstance(error, StartupError)
    config = ConfigurationValidationError("bad", {"problems": []})
    assert isinstance(config, StartupError) and config.details == {"problems": []}
    assert StartupError("x").details == {}


@pytest.mark.parametrize(("error", "code"), [
    (ConfigurationValidationError("x"), 78),
    (DependencyUnavailableError("x", "db"), 69),
    (StartupError("x"), 70),
    (KeyError("x"), 70),
])
def test_exit_codes(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code
