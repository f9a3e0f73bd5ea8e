"""Issue 24 item 8: the variables Kubernetes injects for the Services in a namespace never fail
validation by themselves, whatever the Services are named (``tws``, ``server``, ``redis``, ``app-tws``…).

For every Service, Kubernetes sets ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT``,
``<NAME>_SERVICE_PORT_<PORTNAME>``, ``<NAME>_PORT=<proto>://IP:port`` and, per port,
``<NAME>_PORT_<p>_<PROTO>``, ``…_PROTO``, ``…_PORT``, ``…_ADDR``. Any of these can shadow one of
Resync's names only when the Service's name is a prefix of it at an underscore: every such prefix of
every environment name in the table is drawn, beside arbitrary Service names.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.settings import FIELDS, load_settings

PREFIXES = sorted({"_".join(name.split("_")[:i]) for f in FIELDS for name in f.env_names
                   for i in range(1, name.count("_") + 1)})
names = st.one_of(st.sampled_from(PREFIXES),
                  st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True).map(
                      lambda n: n.upper().replace("-", "_")))
ips = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"))
ports = st.lists(st.tuples(st.integers(1, 65535), st.sampled_from(["TCP", "UDP", "SCTP"]),
                           st.one_of(st.none(), st.text(string.ascii_lowercase, min_size=1, max_size=8))),
                 min_size=1, max_size=3)


Ports = list[tuple[int, str, str | None]]


def service_env(name: str, ip: str, service_ports: Ports) -> dict[str, str]:
    """What Kubernetes injects into a pod for the Service ``name`` (already upper case, ``_``)."""
    first, proto, _ = service_ports[0]
    env = {f"{name}_SERVICE_HOST": ip.strip("[]"), f"{name}_SERVICE_PORT": str(first),
           f"{name}_PORT": f"{proto.lower()}://{ip}:{first}"}
    for port, proto, port_name in service_ports:
        if port_name:
            env[f"{name}_SERVICE_PORT_{port_name.upper()}"] = str(port)
        key = f"{name}_PORT_{port}_{proto}"
        env.update({key: f"{proto.lower()}://{ip}:{port}", f"{key}_PROTO": proto.lower(),
                    f"{key}_PORT": str(port), f"{key}_ADDR": ip.strip("[]")})
    return env


@given(st.lists(st.tuples(names, ips, ports), min_size=1, max_size=4))
def test_no_services_variables_fail_validation_by_themselves(services: list[tuple[str, str, Ports]]) -> None:
    env: dict[str, str] = {}
    for name, ip, service_ports in services:
        env.update(service_env(name, ip, service_ports))
    settings = load_settings(environ=env)
    assert all(w.startswith("ignored: ") for w in settings.warnings())
    assert [p.name for p in settings.probes if p.name == "tws"] == []  # no TWS_HOST: nothing to probe


def test_the_issues_tws_service() -> None:
    settings = load_settings(environ={"TWS_PORT": "tcp://10.96.0.9:31111", "TWS_SERVICE_HOST": "10.96.0.9"})
    assert settings.probes == () and settings.resync.tws_port is None
    (warning,) = settings.warnings()
    assert warning.startswith("ignored: TWS_PORT: a Kubernetes service link (a Service named 'tws'")


def test_a_service_link_port_is_used_with_its_host() -> None:
    settings = load_settings(environ={"TWS_HOST": "tws.internal", "TWS_PORT": "sctp://10.96.0.9:31111"})
    assert [p.target for p in settings.probes] == ["tws.internal:31111"] and settings.warnings() == []


def test_a_plain_lone_port_is_still_the_operators_mistake() -> None:
    with pytest.raises(ConfigurationValidationError, match="TWS_HOST: required when TWS_PORT is set"):
        load_settings(environ={"TWS_PORT": "31111"})
