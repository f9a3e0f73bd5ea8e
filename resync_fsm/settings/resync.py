"""Resync's rules: the probes its variables imply, and its production security checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .model import ProbeSpec, ResyncSettings
from .sources import Raw

__all__ = ["WEAK_PASSWORDS", "lone_service_links", "resync_probes", "security_problems"]

Problem = Callable[[str, str], None]

WEAK_PASSWORDS = frozenset(
    {
        "123456789012", "1234567890ab", "administrator", "adminadmin123", "admin1234567",
        "changeme1234", "letmein12345", "password", "password1234", "password123!",
        "passw0rd1234", "qwerty123456", "qwertyuiop12", "welcome12345", "iloveyou1234",
        "abc123456789", "000000000000", "111111111111", "secret123456", "resync123456",
        "admin", "admin123", "123456", "qwerty", "letmein", "changeme", "secret",
    }
)


# Kubernetes' service-link value, injected as <SERVICE>_PORT for every Service in the namespace
_SERVICE_LINK = re.compile(r"(?:tcp|udp|sctp)://\S+:[0-9]+", re.IGNORECASE)
# A Resync port a Service's link can set, and the setting without which it means nothing
_PAIRED = {"resync.tws_port": "resync.tws_host"}


def lone_service_links(values: dict[str, Any], picked: dict[str, Raw]) -> list[str]:
    """Unset a port that is only a Kubernetes service link (a Service named ``tws`` injects
    ``TWS_PORT=tcp://IP:port``) when its host is not given; one ``ignored: …`` note for each.

    Such a variable is the orchestrator's, not the operator's: alone, it never fails validation.
    """
    notes = []
    for path, partner in _PAIRED.items():
        raw = picked[path]
        if picked[partner].source != "default" or not isinstance(raw.value, str):
            continue
        if values[path] is not None and _SERVICE_LINK.fullmatch(raw.value.strip()):
            values[path] = None
            service = raw.name.removesuffix("_PORT").lower().replace("_", "-")
            notes.append(f"ignored: {raw.name}: a Kubernetes service link (a Service named {service!r} in the "
                         f"namespace) without {partner.split('.')[1].upper()}; set it to use this port")
    return notes


def resync_probes(
    resync: ResyncSettings, name_of: Callable[[str], str], problem: Problem
) -> list[ProbeSpec]:
    """The probes Resync's variables imply (DESIGN §3); a dependency required but not configured is a problem.

    ``REDIS_URL`` → a critical ``redis`` probe; ``TWS_HOST`` + ``TWS_PORT`` → a
    ``tws`` TCP probe, critical iff ``REQUIRE_TWS_AT_BOOT``; ``LLM_ENDPOINT`` → an
    ``llm`` HTTP probe, critical iff ``REQUIRE_LLM_AT_BOOT``. ``name_of`` gives the
    name to report for a field path; ``problem(name, message)`` records one.
    """
    probes: list[ProbeSpec] = []
    if resync.redis_url:
        probes.append(ProbeSpec(name="redis", kind="redis", url=resync.redis_url, critical=True))

    host, port = resync.tws_host, resync.tws_port
    if host and port:
        probes.append(
            ProbeSpec(name="tws", kind="tcp", host=host, port=port,
                      critical=resync.require_tws_at_boot)
        )
    elif host or port:
        missing = "resync.tws_port" if host else "resync.tws_host"
        given = "resync.tws_host" if host else "resync.tws_port"
        problem(name_of(missing), f"required when {name_of(given)} is set")
    elif resync.require_tws_at_boot:
        for path in ("resync.tws_host", "resync.tws_port"):
            problem(name_of(path), f"required because {name_of('resync.require_tws_at_boot')} is true")

    if resync.llm_endpoint:
        probes.append(
            ProbeSpec(name="llm", kind="http", url=resync.llm_endpoint,
                      critical=resync.require_llm_at_boot)
        )
    elif resync.require_llm_at_boot:
        problem(
            name_of("resync.llm_endpoint"),
            f"required because {name_of('resync.require_llm_at_boot')} is true",
        )
    return probes


def security_problems(resync: ResyncSettings, name_of: Callable[[str], str], problem: Problem) -> None:
    """Resync's security settings (DESIGN §3): strict and required in production, else checked when present.

    Admin user ≥ 3 characters; admin password ≥ 12 and not in
    :data:`WEAK_PASSWORDS`, not one repeated character, not the user name;
    ``SECRET_KEY`` ≥ 32 without ``CHANGE_ME``. Problems never quote the value.
    """
    production = resync.environment == "production"
    why = " (ENVIRONMENT=production)" if production else ""

    def required(path: str, value: str | None) -> bool:
        if value is None and production:
            problem(name_of(path), "required in production")
        return value is not None

    user = resync.admin_username
    if required("resync.admin_username", user) and user is not None and len(user) < 3:
        problem(name_of("resync.admin_username"), f"must be at least 3 characters{why}")

    password = resync.admin_password
    if required("resync.admin_password", password) and password is not None:
        if len(password) < 12:
            problem(name_of("resync.admin_password"), f"must be at least 12 characters{why}")
        elif password.lower() in WEAK_PASSWORDS or len(set(password)) == 1 or password == user:
            problem(name_of("resync.admin_password"), f"is a known weak password; choose another{why}")

    key = resync.secret_key
    if required("resync.secret_key", key) and key is not None:
        if len(key) < 32:
            problem(name_of("resync.secret_key"), f"must be at least 32 characters{why}")
        if "change_me" in key.lower():
            # not naming the placeholder: the key's value is a secret, so its text is masked
            problem(name_of("resync.secret_key"), f"is still the placeholder; generate a real key{why}")
