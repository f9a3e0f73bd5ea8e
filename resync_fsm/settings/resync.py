"""Resync's rules: the probes its variables imply, and its production security checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .model import ProbeSpec, ResyncSettings
from .sources import Raw

__all__ = ["PLACEHOLDERS", "WEAK_PASSWORDS", "lone_service_links", "resync_probes", "security_problems"]

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


# Fragments of placeholder values (lower case, letters and digits only): Resync's CHANGE_ME, our own
# docs' examples (change-this-to-a-long-passphrase), your-secret-key, placeholder, replace-me.
PLACEHOLDERS = ("changeme", "changethis", "yoursecret", "yourpassword", "yourkey", "placeholder", "replaceme")


def _placeholder(value: str) -> bool:
    folded = re.sub(r"[^a-z0-9]", "", value.lower())
    return any(marker in folded for marker in PLACEHOLDERS)


def security_problems(resync: ResyncSettings, name_of: Callable[[str], str], problem: Problem,
                      warn: Problem) -> None:
    """Resync's security settings (DESIGN §3): in production required, and each rule a problem;
    elsewhere each rule broken is a warning (``warn``), never an error (Resync's own rule there is 8).

    Admin user ≥ 3 characters; admin password ≥ 12, not in :data:`WEAK_PASSWORDS`, not one
    repeated character, not the user name, not a placeholder; ``SECRET_KEY`` ≥ 32 and not a
    placeholder (:data:`PLACEHOLDERS`, ``CHANGE_ME`` among them). Messages never quote the value.
    """
    production = resync.environment == "production"
    report = problem if production else warn
    why = " (ENVIRONMENT=production)" if production else "; accepted outside production, refused in it"
    user, password, key = resync.admin_username, resync.admin_password, resync.secret_key
    for path, value in (("resync.admin_username", user), ("resync.admin_password", password),
                        ("resync.secret_key", key)):
        if value is None and production:
            problem(name_of(path), "required in production")
    if user is not None and len(user) < 3:
        report(name_of("resync.admin_username"), f"must be at least 3 characters{why}")
    if password is not None:
        if len(password) < 12:
            report(name_of("resync.admin_password"), f"must be at least 12 characters{why}")
        elif password.lower() in WEAK_PASSWORDS or len(set(password)) == 1 or password == user:
            report(name_of("resync.admin_password"), f"is a known weak password; choose another{why}")
        if _placeholder(password):
            report(name_of("resync.admin_password"), f"is still a placeholder; choose a real password{why}")
    if key is not None:
        if len(key) < 32:
            report(name_of("resync.secret_key"), f"must be at least 32 characters{why}")
        if _placeholder(key):
            # not naming the placeholder: the key's value is a secret, so its text is masked
            report(name_of("resync.secret_key"), f"is still a placeholder; generate a real key{why}")
