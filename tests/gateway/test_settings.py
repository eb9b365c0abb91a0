"""Gateway settings that must refuse to start rather than run weakly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chiso_gateway.settings import Settings


def test_prod_refuses_a_short_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_GATEWAY_ENV", "prod")
    monkeypatch.setenv("CHISO_GATEWAY_JWT_KEYS_DIR", "/etc/chiso/jwt-keys")
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", "x")
    with pytest.raises(ValidationError, match="has 1 bytes; in prod it needs at least 32"):
        Settings()
    # Bytes, not characters: 11 three-byte letters are 33 bytes.
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", "ố" * 11)
    assert Settings().jwt_secret is not None
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", "k" * 31)
    with pytest.raises(ValidationError, match="has 31 bytes"):
        Settings()


def test_dev_keeps_accepting_any_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", "x")
    assert Settings().env == "dev"
