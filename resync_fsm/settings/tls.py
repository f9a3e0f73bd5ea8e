"""The TLS settings together: which file is wrong, and a certificate's validity dates (issue 24).

:func:`tls_problems` reads the certificate chain and the key apart before loading them into an
:class:`ssl.SSLContext` as the server will, so the message names the file that is wrong (a
certfile that is not a PEM certificate, a keyfile that is not a PEM key, an encrypted key) and
blames the pair only when they do not match. :func:`tls_warnings` says when the certificate is
expired, not yet valid, or expires within :data:`EXPIRY_WARNING_DAYS`; a warning, not an error,
since an operator may serve an expired one on purpose while the new one is issued. The dates are
read with ``cryptography`` (imported only when TLS is configured).
"""

from __future__ import annotations

import functools
import os
import ssl
import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["EXPIRY_WARNING_DAYS", "certificate_dates", "tls_problems", "tls_warnings"]

EXPIRY_WARNING_DAYS = 14  # as certificate monitors warn (Let's Encrypt renews 30 days ahead)
_ENCRYPTED = ("is encrypted: resync_fsm takes no passphrase; decrypt it (openssl pkey -in KEY -out KEY.plain) "
              "and keep it readable by the service only")


def _pem_problems(cert: str, key: str) -> list[tuple[str, str]]:
    """Each file read on its own: the certificate chain, then the private key."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    problems = []
    try:
        with open(cert, "rb") as handle:
            x509.load_pem_x509_certificates(handle.read())
    except (ValueError, OSError):
        problems.append(("tls.certfile", "is not a PEM certificate chain (no -----BEGIN CERTIFICATE----- block "
                                         "that parses)"))
    try:
        with open(key, "rb") as handle:
            serialization.load_pem_private_key(handle.read(), password=None)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        problems.append(("tls.keyfile", _ENCRYPTED))
    except (ValueError, OSError, UnsupportedAlgorithm):
        problems.append(("tls.keyfile", "is not a PEM private key (no -----BEGIN … PRIVATE KEY----- block "
                                        "that parses)"))
    return problems


def tls_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with the TLS settings together: ``[(field path, message), ...]``.

    ``values`` maps field paths to parsed values. Each message names the file that is wrong;
    "does not match" only when both files are good on their own. CA certificates that do not
    load and a client-certificate mode without them are problems too.
    """
    cert, key, ca = values["tls.certfile"], values["tls.keyfile"], values["tls.ca_certs"]
    problems: list[tuple[str, str]] = []
    if (cert is None) != (key is None):
        missing, given = ("tls.keyfile", "tls.certfile") if key is None else ("tls.certfile", "tls.keyfile")
        problems.append((missing, f"required with {given}: TLS needs both"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if cert is not None and key is not None:
        problems += _pem_problems(cert, key)
        if not problems:
            try:
                context.load_cert_chain(cert, key, password=_no_passphrase)
            except _Encrypted:
                problems.append(("tls.keyfile", _ENCRYPTED))
            except ssl.SSLError as exc:
                problems.append(("tls.keyfile", f"does not match tls.certfile: not its certificate's private key "
                                                f"({exc.reason or 'unreadable'})"))
            except OSError as exc:
                problems.append(("tls.keyfile", f"could not be loaded with tls.certfile ({exc.strerror})"))
    if ca is not None:
        try:
            context.load_verify_locations(ca)
        except (ssl.SSLError, OSError):
            problems.append(("tls.ca_certs", "expected PEM CA certificates"))
    if values["tls.client_cert"] != "none" and ca is None:
        problems.append(("tls.client_cert", "optional or required needs tls.ca_certs to verify clients"))
    if cert is None and (ca is not None or values["tls.client_cert"] != "none"):
        problems.append(("tls.ca_certs" if ca is not None else "tls.client_cert",
                         "only applies with TLS: set tls.certfile and tls.keyfile"))
    return problems


@functools.lru_cache(maxsize=8)
def _dates(path: str, changed: int) -> tuple[float, float] | None:
    from cryptography import x509

    try:
        with open(path, "rb") as handle:
            first = x509.load_pem_x509_certificates(handle.read())[0]  # the server's own, before its chain
    except (ValueError, OSError):
        return None
    return first.not_valid_before_utc.timestamp(), first.not_valid_after_utc.timestamp()


def certificate_dates(path: str) -> tuple[float, float] | None:
    """``(notBefore, notAfter)`` of the first certificate in ``path``, seconds since the epoch;
    ``None`` when it cannot be read. Read again only when the file changes."""
    try:
        changed = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _dates(path, changed)


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def tls_warnings(values: dict[str, Any], now: float | None = None) -> list[tuple[str, str]]:
    """``[("tls.certfile", message)]`` when the certificate is expired, not yet valid, or expires
    within :data:`EXPIRY_WARNING_DAYS` days of ``now`` (default: the wall clock); else ``[]``."""
    cert = values["tls.certfile"]
    dates = certificate_dates(cert) if cert is not None and values["tls.keyfile"] is not None else None
    if dates is None:
        return []
    now = time.time() if now is None else now
    not_before, not_after = dates
    if not_after < now:
        text = f"the certificate expired on {_day(not_after)} (notAfter): clients will refuse it; renew it"
    elif not_before > now:
        text = f"the certificate is not valid before {_day(not_before)} (notBefore): clients will refuse it until then"
    elif not_after - now < EXPIRY_WARNING_DAYS * 86400:
        days = (not_after - now) / 86400
        text = f"the certificate expires on {_day(not_after)} (notAfter), in {days:.1f} days: renew it"
    else:
        return []
    return [("tls.certfile", text)]


class _Encrypted(Exception):
    """The key file asked for a passphrase."""


def _no_passphrase() -> bytes:
    """OpenSSL's passphrase callback: never prompt on the terminal (a service has none)."""
    raise _Encrypted()
