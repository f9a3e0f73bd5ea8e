"""Fixtures shared by the serving tests."""

from __future__ import annotations

import pytest

from ..certs import Certs, make_certs


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA and a server certificate for 127.0.0.1 (made once per session with openssl)."""
    return make_certs(tmp_path_factory.mktemp("certs"))
