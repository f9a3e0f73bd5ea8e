"""Certificates made in the test with the openssl command (.ci/run installs it): a CA and a server
certificate for 127.0.0.1 and localhost signed by it, plus an unrelated key for mismatch tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import attrs


@attrs.frozen
class Certs:
    ca: Path
    cert: Path
    key: Path
    other_key: Path  # a valid key that does not match cert


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certs(directory: Path) -> Certs:
    """A CA (ca.pem) and a server chain (server.pem, server.key) in ``directory``."""
    d = directory
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=resync_fsm test CA", cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    _openssl("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "other.key", cwd=d)
    return Certs(d / "ca.pem", d / "server.pem", d / "server.key", d / "other.key")
