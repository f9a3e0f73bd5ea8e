"""Issue 24 item 11: outside production Resync's own passwords are accepted, with a warning; in
production the rules stay strict and also refuse placeholder values (ours and the usual ones).

No message ever holds the value of a password or key.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.redaction import forget_secrets
from resync_fsm.settings import load_settings

STRONG = {"ADMIN_USERNAME": "operator", "ADMIN_PASSWORD": "Tr0ub4dor&3-horse", "SECRET_KEY": "k" * 16 + "Z" * 16}
# Our own docs' example values (docs/resync.md), Resync's CHANGE_ME, and the usual placeholders.
PLACEHOLDERS = ["change-this-to-a-long-passphrase", "change-this-to-64-random-characters-from-a-secrets-generator",
                "CHANGE_ME_CHANGE_ME_CHANGE_ME_CHANGE_ME", "changeme-changeme-changeme-changeme",
                "your-secret-key-goes-here-0123456789", "Your_Password_Here_please_0123456789",
                "placeholder-placeholder-placeholder", "replace-me-with-a-real-value-0123456789"]
# every warning text there is, so that a drawn secret is never a piece of one (the log would mask it there)
TEXTS = " ".join(load_settings(environ={"ADMIN_USERNAME": "ab", "ADMIN_PASSWORD": "aaaa", "SECRET_KEY": "changeme"})
                 .warnings() + load_settings(environ={"ADMIN_PASSWORD": "password1234"}).warnings())
secrets = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=4,
                  max_size=40).filter(lambda s: bool(s.strip()) and s not in TEXTS)


@given(password=secrets, key=secrets, user=secrets, environment=st.sampled_from(["development", "test"]))
def test_outside_production_any_password_or_key_is_at_most_a_warning(password: str, key: str, user: str,
                                                                      environment: str) -> None:
    forget_secrets()
    settings = load_settings(environ={"ENVIRONMENT": environment, "ADMIN_PASSWORD": password,
                                      "SECRET_KEY": key, "ADMIN_USERNAME": user})
    assert settings.resync.admin_password == password and settings.resync.secret_key == key
    for warning in settings.warnings():
        assert warning.split(":")[0] in ("ADMIN_USERNAME", "ADMIN_PASSWORD", "SECRET_KEY")
        assert password not in warning and key not in warning


def test_resyncs_own_eleven_character_password_is_a_warning_in_development() -> None:
    settings = load_settings(environ={**STRONG, "ADMIN_PASSWORD": "Resync2024!"})
    assert settings.warnings() == ["ADMIN_PASSWORD: must be at least 12 characters; accepted outside "
                                   "production, refused in it"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
@pytest.mark.parametrize("name", ["ADMIN_PASSWORD", "SECRET_KEY"])
def test_production_refuses_placeholders(name: str, value: str) -> None:
    with pytest.raises(ConfigurationValidationError) as info:
        load_settings(environ={"ENVIRONMENT": "production", **STRONG, name: value})
    (problem,) = info.value.details["problems"]
    assert problem["field"] == name and "placeholder" in problem["problem"]
    assert value not in str(info.value) and value not in str(info.value.details)


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_warnings_in_development(value: str) -> None:
    warnings = load_settings(environ={**STRONG, "SECRET_KEY": value}).warnings()
    assert any(w.startswith("SECRET_KEY: is still a placeholder") for w in warnings)
    assert all(value not in w for w in warnings)


def test_production_keeps_its_strong_values() -> None:
    assert load_settings(environ={"ENVIRONMENT": "production", **STRONG}).warnings() == []
