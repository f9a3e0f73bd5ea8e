"""The redaction primitives: URL userinfo and credential query parameters, and scrubbing free text."""

from __future__ import annotations

import pytest

from resync_fsm.redaction import forget_secrets, redact_url, register_secret, scrub, scrub_data


@pytest.fixture(autouse=True)
def clean() -> None:
    forget_secrets()


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://default:pw-123@cache:6379/0", "redis://***@cache:6379/0"),
    ("https://TOKEN123@api.example/v1", "https://***@api.example/v1"),
    ("https://llm/v1?api_key=k-999&model=x", "https://llm/v1?api_key=***&model=x"),
    ("https://llm/v1?access_token=t-777", "https://llm/v1?access_token=***"),
    ("http://plain.example/", "http://plain.example/"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redacting_a_url_registers_its_secret_for_free_text() -> None:
    redact_url("redis://default:pw-123@cache:6379/0")
    assert scrub("AUTH failed for pw-123 at cache") == "AUTH failed for *** at cache"
    assert scrub("the default user") == "the default user"  # a user name beside a password is not secret


def test_scrub_masks_quoted_forms_and_longest_first() -> None:
    register_secret("p@ss word")
    register_secret("p@ss")
    assert scrub("x p%40ss%20word y p@ss word z") == "x *** y *** z"
    assert scrub_data({"a": ["p@ss", 3], "b": ("ok",)}) == {"a": ["***", 3], "b": ["ok"]}


def test_short_values_are_not_scrubbed_from_prose() -> None:
    register_secret("ab")
    assert scrub("about a cab") == "about a cab"
