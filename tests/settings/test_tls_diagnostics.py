"""Issue 24 item 9: a TLS error names the file that is wrong, and a certificate that is expired,
not yet valid or expiring within 14 days is a warning at validation naming the date (and the
``resync_fsm_tls_certificate_expiry_seconds`` gauge holds its notAfter)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from resync_fsm.errors import ConfigurationValidationError
from resync_fsm.runner import Runner
from resync_fsm.settings import Settings, load_settings
from resync_fsm.settings.model import TLSSettings
from resync_fsm.settings.tls import tls_warnings
from resync_fsm.web.metrics import RunnerMetrics

DAY = 86400.0


def certificate(directory: Path, not_before: datetime, not_after: datetime, *,
                passphrase: bytes | None = None) -> tuple[Path, Path]:
    """A self-signed certificate valid from ``not_before`` to ``not_after`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return cert_path, key_path


def valid(directory: Path) -> tuple[Path, Path]:
    now = datetime.now(UTC)
    return certificate(directory, now - timedelta(days=1), now + timedelta(days=365))


def problems(cert: Path, key: Path) -> dict[str, str]:
    with pytest.raises(ConfigurationValidationError) as info:
        load_settings(flags={"tls.certfile": str(cert), "tls.keyfile": str(key)}, environ={})
    return {p["field"]: p["problem"] for p in info.value.details["problems"]}


def test_a_certfile_that_is_not_pem_is_blamed_on_the_certfile(tmp_path: Path) -> None:
    cert, key = valid(tmp_path)
    cert.write_text("this is not a certificate\n")
    assert list(problems(cert, key)) == ["--certfile"]
    assert problems(cert, key)["--certfile"].startswith("is not a PEM certificate chain")


def test_a_keyfile_that_is_not_pem_is_blamed_on_the_keyfile(tmp_path: Path) -> None:
    cert, key = valid(tmp_path)
    key.write_bytes(cert.read_bytes())  # the certificate given twice
    assert list(problems(cert, key)) == ["--keyfile"]
    assert problems(cert, key)["--keyfile"].startswith("is not a PEM private key")


def test_swapped_files_are_each_named(tmp_path: Path) -> None:
    cert, key = valid(tmp_path)
    assert sorted(problems(key, cert)) == ["--certfile", "--keyfile"]


def test_an_encrypted_key_and_a_mismatched_pair_blame_the_key(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    cert, key = certificate(tmp_path, now - timedelta(days=1), now + timedelta(days=90), passphrase=b"pw")
    assert problems(cert, key)["--keyfile"].startswith("is encrypted")
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = valid(other)
    assert problems(cert, other_key) == {"--keyfile": problems(cert, other_key)["--keyfile"]}
    assert problems(cert, other_key)["--keyfile"].startswith("does not match tls.certfile")


def test_an_expired_certificate_is_a_warning_naming_its_date(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 6, 30, 12, 0, tzinfo=UTC))
    loaded = load_settings(environ={"RESYNC_FSM_TLS_CERTFILE": str(cert), "RESYNC_FSM_TLS_KEYFILE": str(key)})
    assert loaded.warnings() == ["RESYNC_FSM_TLS_CERTFILE: the certificate expired on 2020-06-30 12:00 UTC "
                                 "(notAfter): clients will refuse it; renew it"]
    assert loaded.tls.not_after == datetime(2020, 6, 30, 12, 0, tzinfo=UTC).timestamp()


@settings(max_examples=40, deadline=None)
@given(start=st.floats(-400, 400), length=st.floats(1, 800))
def test_the_warning_follows_the_validity_window(tmp_path_factory: pytest.TempPathFactory, start: float,
                                                 length: float) -> None:
    now = time.time()
    not_before = datetime.fromtimestamp(int(now + start * DAY), UTC)
    not_after = datetime.fromtimestamp(int(now + (start + length) * DAY), UTC)
    cert, key = certificate(tmp_path_factory.mktemp("c"), not_before, not_after)
    found = tls_warnings({"tls.certfile": str(cert), "tls.keyfile": str(key)}, now=now)
    left = not_after.timestamp() - now
    if left < 0:
        assert found and "expired on " + not_after.strftime("%Y-%m-%d %H:%M UTC") in found[0][1]
    elif not_before.timestamp() > now:
        assert found and "not valid before " + not_before.strftime("%Y-%m-%d %H:%M UTC") in found[0][1]
    elif left < 14 * DAY:
        assert found and "expires on " + not_after.strftime("%Y-%m-%d %H:%M UTC") in found[0][1]
    else:
        assert found == []
    assert all(field == "tls.certfile" for field, _ in found)


def test_the_expiry_gauge_holds_notafter(tmp_path: Path) -> None:
    cert, key = valid(tmp_path)
    tls = TLSSettings(certfile=str(cert), keyfile=str(key))

    async def load() -> Settings:
        return Settings(tls=tls)

    runner = Runner(load, handle_signals=False)
    metrics = RunnerMetrics(runner.view)
    def samples() -> list[str]:
        return [line for line in metrics.render().decode().splitlines()
                if line.startswith("resync_fsm_tls_certificate_expiry_seconds ")]

    assert samples() == []  # no settings yet: no TLS, no sample
    runner.settings = Settings(tls=tls)
    (line,) = samples()
    assert float(line.split()[1]) == tls.not_after
