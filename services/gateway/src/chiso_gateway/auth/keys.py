"""The gateway's token signing keys: PEM private keys in one directory, published as a JWKS.

Every gateway replica reads the same directory (in Kubernetes, the Secret `chiso-jwt-keys`
mounted at `/etc/chiso/jwt-keys`), so all replicas agree on which key signs without a
database. Each key is `<name>.pem` (Ed25519 -> EdDSA, RSA of 2048 bits or more -> RS256) and
may have a sidecar `<name>.json`:

    {"not_before": "2026-12-06T16:00:00Z", "retired_at": null}

- `not_before`: the key is published at once but signs only from then on, so verifiers that
  cache the JWKS know it before the first token it signs arrives (`chiso keys rotate` sets it
  to now + JWT_KEY_PUBLISH_AHEAD_SECONDS). Without a sidecar a key may sign at once.
- The signing key is the one with the latest `not_before` that has passed (ties: the file
  name), so a newer key takes over from an older one by itself.
- A key stops signing when a newer key takes over or at its `retired_at`; it stays published
  (and its tokens valid) for the token lifetime after that, then leaves the JWKS. The file can
  be deleted from then on; deleting it earlier ends its tokens at once (a leaked key).

`kid` is the key's RFC 7638 JWK thumbprint, so it names the key itself, not the file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

log = logging.getLogger("chiso.gateway.keys")

Algorithm = Literal["EdDSA", "RS256"]
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
MIN_RSA_BITS = 2048
# Replicas' clocks differ a little: a key stays published this much past its tokens' expiry.
CLOCK_SKEW_SECONDS = 60.0
# RFC 7638 §3.2: the members of the thumbprint's JSON, by key type.
THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}


class KeyFileError(ValueError):
    """A key file or its sidecar cannot be used (a bilingual message)."""


class NoSigningKey(RuntimeError):
    """No key in the directory may sign now."""


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[str(jwk["kty"])]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    name: str  # the file's stem
    kid: str
    algorithm: Algorithm
    private: PrivateKey = field(repr=False)
    jwk: dict[str, Any]  # the public JWK as published, with kid, alg and use
    not_before: float = 0.0  # seconds since the epoch
    retired_at: float | None = None
    digest: bytes = b""  # SHA-256 of the file, to reuse the parsed key on reload

    @property
    def public(self) -> PublicKey:
        return self.private.public_key()

    def order(self) -> tuple[float, str]:
        return (self.not_before, self.name)


def _timestamp(value: object, what: str, path: Path) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise KeyFileError(
            f"{path}: {what} {value!r} không phải thời điểm ISO 8601. / "
            f"{what} {value!r} is not an ISO 8601 time"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _sidecar(path: Path) -> tuple[float, float | None]:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return 0.0, None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise KeyFileError(
            f"{sidecar}: không đọc được JSON. / cannot read it as JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise KeyFileError(f"{sidecar}: cần một đối tượng JSON. / needs a JSON object")
    not_before = _timestamp(data.get("not_before"), "not_before", sidecar) or 0.0
    return not_before, _timestamp(data.get("retired_at"), "retired_at", sidecar)


def _public_jwk(private: object, path: Path) -> tuple[Algorithm, dict[str, Any]]:
    """The algorithm a private key signs with and its public JWK (with kid, alg and use)."""
    jwk: dict[str, Any]
    if isinstance(private, ed25519.Ed25519PrivateKey):
        algorithm: Algorithm = "EdDSA"
        jwk = dict(OKPAlgorithm.to_jwk(private.public_key(), as_dict=True))
    elif isinstance(private, rsa.RSAPrivateKey) and private.key_size >= MIN_RSA_BITS:
        algorithm = "RS256"
        jwk = dict(RSAAlgorithm.to_jwk(private.public_key(), as_dict=True))
    else:
        raise KeyFileError(
            f"{path}: chỉ dùng khóa Ed25519 hoặc RSA từ {MIN_RSA_BITS} bit. / "
            f"only Ed25519 keys or RSA keys of {MIN_RSA_BITS} bits or more are used"
        )
    jwk.update(kid=thumbprint(jwk), alg=algorithm, use="sig")
    return algorithm, jwk


def load_key(path: Path, data: bytes) -> SigningKey:
    """The key of one PEM file (`data`, its bytes) with its sidecar's times."""
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path}: không phải khóa riêng PEM không mã hóa. / "
            f"not an unencrypted PEM private key: {exc}"
        ) from exc
    algorithm, jwk = _public_jwk(private, path)
    not_before, retired_at = _sidecar(path)
    return SigningKey(
        path.stem,
        str(jwk["kid"]),
        algorithm,
        private,  # type: ignore[arg-type]  # _public_jwk admitted only the two kinds
        jwk,
        not_before,
        retired_at,
        hashlib.sha256(data).digest(),
    )


def generate(
    directory: Path, algorithm: Algorithm, *, not_before: float | None = None, name: str = ""
) -> SigningKey:
    """A new private key written to `directory` (mode 0600), with a sidecar when it must not
    sign before `not_before`. With a `name`, the key is `<name>.pem` unless that file exists
    already (another process made it first): then that key is returned and none is made."""
    private: PrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    data = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromtimestamp(not_before or time.time(), UTC).strftime("%Y%m%dT%H%M%SZ")
    kid = str(_public_jwk(private, directory)[1]["kid"])
    path = directory / f"{name or stamp + '-' + kid[:8]}.pem"
    if not_before is not None:
        write_times(path, not_before=not_before, retired_at=None)
    # Written aside, then linked into place: a gateway reading the directory meanwhile (a
    # reload, another dev process starting) sees the whole key or none of it, and of two
    # processes making `<name>.pem` at once, one wins and both use its key.
    partial = directory / f".{kid}.partial"
    partial.touch(mode=0o600)
    partial.write_bytes(data)
    try:
        os.link(partial, path)
    except FileExistsError:
        return load_key(path, path.read_bytes())
    finally:
        partial.unlink()
    return load_key(path, data)


def write_times(path: Path, *, not_before: float | None, retired_at: float | None) -> None:
    """Write the sidecar of the key at `path`."""

    def iso(value: float | None) -> str | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")

    body = {"not_before": iso(not_before), "retired_at": iso(retired_at)}
    path.with_suffix(".json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def read_dir(directory: Path, known: dict[bytes, SigningKey] | None = None) -> list[SigningKey]:
    """Every key of the directory, by file name; `known` (file digest -> key) saves parsing
    keys again on reload (the sidecar is always read again)."""
    keys: list[SigningKey] = []
    for path in sorted(directory.glob("*.pem")):
        data = path.read_bytes()
        digest = hashlib.sha256(data).digest()
        cached = (known or {}).get(digest)
        if cached is not None and cached.name == path.stem:
            not_before, retired_at = _sidecar(path)
            key = replace(cached, not_before=not_before, retired_at=retired_at)
        else:
            key = load_key(path, data)
        keys.append(key)
    return keys


class KeyRing:
    """The keys of a directory, re-read every `reload_seconds` so a rotated Secret takes
    effect without a restart; `token_ttl` is how long a key stays published after it stops
    signing."""

    def __init__(self, directory: Path, *, token_ttl: float, reload_seconds: float) -> None:
        self.directory = directory
        self.token_ttl = token_ttl
        self.reload_seconds = reload_seconds
        self.keys: list[SigningKey] = read_dir(directory)
        if not self.keys:
            raise KeyFileError(
                f"{directory}: không có khóa ký token (*.pem); tạo bằng `chiso keys generate`. / "
                "holds no token signing key (*.pem); make one with `chiso keys generate`"
            )
        self.loaded = time.monotonic()

    def refresh(self) -> None:
        """Re-read the directory when the last read is older than `reload_seconds`; a bad
        directory is logged and the keys read before are kept."""
        if time.monotonic() - self.loaded < self.reload_seconds:
            return
        self.loaded = time.monotonic()
        known = {key.digest: key for key in self.keys}
        try:
            keys = read_dir(self.directory, known)
        except (KeyFileError, OSError) as exc:
            log.error("token keys not reloaded, the previous ones are kept: %s", exc)
            return
        if not keys:
            log.error("token keys not reloaded: %s holds no *.pem; keeping", self.directory)
            return
        self.keys = keys

    def signing_until(self, key: SigningKey) -> float:
        """When `key` stops signing: its retirement, or when a newer key takes over."""
        ends = [key.retired_at] if key.retired_at is not None else []
        for other in self.keys:
            takes_over = other.retired_at is None or other.retired_at > other.not_before
            if other.order() > key.order() and takes_over:
                ends.append(other.not_before)
        return min(ends, default=float("inf"))

    def is_published(self, key: SigningKey, now: float) -> bool:
        return now < self.signing_until(key) + self.token_ttl + CLOCK_SKEW_SECONDS

    def signer(self, now: float | None = None) -> SigningKey:
        """The key that signs now (see the module's rules)."""
        self.refresh()
        now = time.time() if now is None else now
        live = [k for k in self.keys if k.retired_at is None or k.retired_at > now]
        ready = [k for k in live if k.not_before <= now]
        if ready:
            return max(ready, key=SigningKey.order)
        if live:
            # Only keys published ahead and not due yet (a first deployment): sign with the
            # earliest rather than refuse every token.
            early = min(live, key=SigningKey.order)
            log.warning("no token key is due yet; %s signs before its not_before", early.kid)
            return early
        raise NoSigningKey(f"every key in {self.directory} is retired")

    def published(self, now: float | None = None) -> list[SigningKey]:
        self.refresh()
        now = time.time() if now is None else now
        return [key for key in self.keys if self.is_published(key, now)]

    def verification_key(self, kid: str, now: float | None = None) -> SigningKey | None:
        """The published key named `kid`, if any: the one its tokens verify with."""
        now = time.time() if now is None else now
        for key in self.published(now):
            if key.kid == kid:
                return key
        return None

    def jwks(self, now: float | None = None) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [dict(key.jwk) for key in self.published(now)]}
