from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from chiso_gateway.auth.external import ExternalIssuer
from chiso_gateway.auth.keys import KeyFileError, KeyRing, generate
from chiso_shared.settings import ServiceSettings

log = logging.getLogger("chiso.gateway.settings")
LEGACY_ISSUER = "chiso-gateway"  # the issuer of every token before PUBLIC_URL existed

# HS256 keys shorter than the hash's output (RFC 7518 §3.2 asks for at least 256 bits) can be
# brute-forced offline from any one token.
MIN_JWT_SECRET_BYTES = 32
DEFAULT_TIERS = {"bronze": 60, "standard": 600, "silver": 2000, "gold": 5000, "unlimited": 0}
SUMMARY_INDICATORS = (
    "telecom.subscribers.total",
    "telecom.subscribers.mobile",
    "telecom.internet.subscribers",
    "telecom.broadband_fixed.subscribers",
    "telecom.bts.total",
    "telecom.revenue",
    "egov.online_application_rate",
    "egov.procedures.on_time_rate",
    "digital_economy.grdp_share",
)


class Settings(ServiceSettings):
    """Gateway settings, read from `CHISO_GATEWAY_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CHISO_GATEWAY_", env_nested_delimiter="__")

    service_name: str = "gateway"
    ingest_url: str = Field(default="http://127.0.0.1:8001", description="Ingest base URL.")
    indicators_url: str = Field(default="http://127.0.0.1:8002", description="Indicators base URL.")
    upstream_max_line_bytes: int = Field(
        default=8190,
        ge=256,
        le=1024 * 1024,
        description="Longest status or header line an upstream may answer (aiohttp "
        "`max_line_size`); a longer one is a 502.",
    )
    upstream_max_field_bytes: int = Field(
        default=8190,
        ge=256,
        le=1024 * 1024,
        description="Longest header field an upstream may answer (aiohttp `max_field_size`); "
        "a longer one is a 502.",
    )
    upstream_max_headers: int = Field(
        default=128, ge=8, le=10_000, description="Most headers in an upstream answer."
    )
    upstream_max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest upstream answer body read; a larger one is a 502, never cut.",
    )
    upstream_keepalive_seconds: float = Field(
        default=15.0,
        ge=0,
        le=3600,
        description="How long an idle connection to an upstream is kept for the next call.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key of the tokens issued before JWT_ALGORITHM (compatibility): "
        "while set, those tokens are accepted until they expire; the signing key when "
        "JWT_ALGORITHM is HS256 (in dev then a random key is kept in the data dir).",
    )
    jwt_algorithm: Literal["EdDSA", "RS256", "HS256"] = Field(
        default="EdDSA",
        description="Access tokens are signed with the keys of JWT_KEYS_DIR: EdDSA (Ed25519) "
        "or RS256 is the kind of key `chiso keys generate` and dev make (a key's own kind "
        "decides how it signs); HS256 signs with JWT_SECRET as before, no JWKS (compatibility).",
    )
    jwt_keys_dir: Path | None = Field(
        default=None,
        description="Directory of the token signing keys (PEM, one per file, with optional "
        "`<name>.json` times); default in dev: DATA_DIR/jwt-keys, made on first start; "
        "required in prod.",
    )
    jwt_key_publish_ahead_seconds: int = Field(
        default=3600,
        ge=0,
        le=30 * 86400,
        description="How long `chiso keys rotate` publishes a new key before it signs, so "
        "verifiers caching the JWKS hold it in time (keep above JWKS_MAX_AGE_SECONDS).",
    )
    jwt_keys_reload_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        description="How often the key directory is read again, so a rotated Secret takes "
        "effect without a restart.",
    )
    jwks_max_age_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="`Cache-Control: max-age` of /.well-known/jwks.json and the OAuth metadata.",
    )
    public_url: str = Field(
        default="",
        max_length=500,
        description="The gateway's public base URL (`https://api.example.gov.vn`): the token "
        "issuer (unless JWT_ISSUER is set) and the base of the OAuth metadata's URLs; empty: "
        "the URL each request came to, and issuer `chiso-gateway`.",
    )
    jwt_issuer: str = Field(
        default="",
        max_length=500,
        description="The tokens' `iss`; empty: PUBLIC_URL, else `chiso-gateway`. Tokens of "
        "issuer `chiso-gateway` (issued before) are accepted as well.",
    )
    external_issuers: list[ExternalIssuer] = Field(
        default_factory=list,
        description="Identity providers whose access tokens are accepted too (JSON list of "
        "{issuer, jwks_url, audience, scope_map, client_claim, area_claim, org, tier, name}).",
    )
    external_jwks_ttl_seconds: float = Field(
        default=300.0, ge=1, le=86400, description="How long an external JWKS is kept."
    )
    external_jwks_min_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Least time between two fetches of an external JWKS for unknown `kid`s.",
    )
    external_jwks_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Timeout of one fetch of an external JWKS."
    )
    token_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    redis_url: str | None = Field(default=None, description="Redis for quotas and cache.")
    redis_timeout_seconds: float = Field(
        default=0.5, gt=0, le=30, description="Connect and command timeout for Redis."
    )
    redis_cooldown_seconds: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="After a Redis failure, how long the gateway leaves Redis alone (cache "
        "misses, quotas and token limits per their *_FAIL_OPEN) before one call probes it.",
    )
    redis_prefix: str = Field(
        default="chiso:gateway:",
        max_length=100,
        description="Prefix of every Redis key; lets several deployments or tests share a Redis.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest document POST /v1/documents takes; its request body may be 4/3 of "
        "this plus 64 KiB (base64 in JSON, multipart framing). Counted as the body streams in.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest request body of every other route (token and revoke forms); "
        "larger bodies, chunked or not, get 413 as soon as they pass it.",
    )
    quota_tiers: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_TIERS),
        description="Requests per minute per client, by tier; 0 means unlimited.",
    )
    quota_window_seconds: int = Field(
        default=60, ge=1, le=86400, description="The quota window; tier limits count per window."
    )
    quota_sliding_window: bool = Field(
        default=True,
        description="Count quotas (and token limits) over a sliding window, so no span of the "
        "window's length lets much more than the limit through; false: fixed windows, as WSO2 "
        "counts by default, which allow twice the limit across a window's edge.",
    )
    cache_ttl_seconds: int = Field(
        default=300, ge=0, le=86400, description="Response cache lifetime; 0 turns it off."
    )
    cache_max_entries: int = Field(default=2000, ge=1, description="In-memory cache size.")
    cache_max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1)
    stale_if_error_seconds: int = Field(
        default=3600,
        ge=0,
        le=7 * 86400,
        description="How long after it was computed a cached read's last good answer may "
        "still be served, marked `X-Chiso-Stale: true` with its `Age`, when indicators fails "
        "(unreachable, timeout, 5xx) rather than a 502/504; 0 turns it off. Needs the cache "
        "(`CACHE_TTL_SECONDS` > 0).",
    )
    series_page_size: int = Field(
        default=1000,
        ge=1,
        le=1000,
        description="Points asked of indicators per page of a series read (its page limit is "
        "1000 by default).",
    )
    series_max_pages: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Pages a series read follows at most; beyond them the answer says "
        "`meta.truncated: true`.",
    )
    client_max_age_seconds: int = Field(
        default=60, ge=0, le=86400, description="`Cache-Control: max-age` of data responses."
    )
    revision_check_seconds: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description="How often the indicators data revision is re-read (cache invalidation).",
    )
    summary_indicators: list[str] = Field(
        default_factory=lambda: list(SUMMARY_INDICATORS),
        description="The key indicators of `/v1/areas/{code}/summary`.",
    )
    compare_max_areas: int = Field(
        default=10,
        ge=2,
        le=100,
        # the old name is read for one release
        validation_alias=AliasChoices(
            "compare_max_areas",
            "CHISO_GATEWAY_COMPARE_MAX_AREAS",
            "CHISO_GATEWAY_COMPARE_MAX_ORG_UNITS",
        ),
        description="The most areas `/v1/compare` sets side by side.",
    )
    quality_queue_max: int = Field(
        default=20,
        ge=0,
        le=200,
        description="Open data-quality flags the first page of GET /v1/reviews/queue puts "
        "ahead of the unreviewed facts (0: none).",
    )
    document_facts_page_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Facts per page of GET /v1/documents/{id}/facts when no `limit` is asked.",
    )
    document_facts_max_page_size: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="The largest `limit` GET /v1/documents/{id}/facts takes (422 above it).",
    )
    trace_max_sources: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Sources whose sentence GET /v1/trace fetches from ingest; beyond them the "
        "sources are listed without a sentence and `meta.truncated` is true.",
    )
    fast_reads: bool = Field(
        default=True,
        description="Answer GET /v1/indicators/{code}/series ahead of FastAPI's routing (the "
        "same answer, about 0.25 ms sooner); false sends it through the ordinary route.",
    )
    audit_enabled: bool = Field(default=True, description="Write one audit row per request.")
    audit_queue_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Audit rows waiting for the writer; when full, responses wait (never drop).",
    )
    audit_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Most audit rows per transaction."
    )
    audit_batch_wait_seconds: float = Field(
        default=0.05,
        ge=0,
        le=5,
        description="How long the audit writer lets a batch gather before it writes; fewer, "
        "larger transactions, and a crash can lose this much more.",
    )
    audit_journal: bool = Field(
        default=True,
        description="Journal queued audit rows in local files (AUDIT_JOURNAL_DIR) before "
        "answering, so a crashed process's rows are written by the next one to start.",
    )
    audit_journal_dir: Path | None = Field(
        default=None,
        description="Where the audit journals live (default: DATA_DIR/audit-journal); processes "
        "that share it recover each other's rows, so give it a volume that outlives one.",
    )
    audit_anchor_seconds: float = Field(
        default=60.0,
        ge=1,
        le=86400,
        description="How often the audit writer logs the chain's head ('audit chain head'), an "
        "anchor for `chiso audit verify --anchor` to detect rows cut off the chain's end.",
    )
    audit_drain_seconds: float = Field(
        default=10.0,
        ge=0,
        le=600,
        description="On shutdown, how long to wait for queued audit rows to be written.",
    )
    token_cache_entries: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="Verified access tokens remembered until they expire; 0 verifies every time.",
    )
    client_check_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a client's active/revoked state is trusted before it is re-read; "
        "a revoked client's tokens stop working within this time (0: checked every request).",
    )
    token_limit_per_client: int = Field(
        default=30,
        ge=0,
        description="Failed token requests per window for one client id from one address; "
        "beyond it that address gets 429 for that client id (others are not locked out). "
        "0 means unlimited.",
    )
    token_limit_per_address: int = Field(
        default=300,
        ge=0,
        description="Failed token requests per window from one address, whatever the client "
        "id; 0 means unlimited.",
    )
    token_limit_fail_open: bool = Field(
        default=False,
        description="When Redis cannot count token failures: true lets token requests through "
        "uncounted; false (default) answers 503 until it can, so an outage never opens "
        "unlimited secret guessing (live tokens keep working).",
    )
    quota_fail_open: bool = Field(
        default=True,
        description="When Redis cannot count quotas: true (default) serves requests uncounted, "
        "so a Redis outage does not take the API down; false answers 503.",
    )
    forwarded_allow_ips: str = Field(
        default="",
        max_length=2000,
        description="Comma-separated addresses or networks of the proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed ('*': any); empty: none, the "
        "peer's address is the caller's. Token limits count by this address.",
    )
    cors_allow_origins: str = Field(
        default="",
        max_length=4000,
        description="Comma-separated origins (`https://app.example.gov.vn`) whose web apps may "
        "call the API from a browser (CORS); `*`: any origin; empty (default): no CORS headers, "
        "a browser on another origin cannot read the answers.",
    )
    cors_max_age_seconds: int = Field(
        default=600,
        ge=0,
        le=86400,
        description="How long a browser may keep a CORS preflight's answer.",
    )
    token_limit_window_seconds: int = Field(
        default=60, ge=1, le=86400, description="The window of the token request limits."
    )
    anonymous_read: bool = Field(
        default=False,
        description="Let callers without a token read indicators (the `indicators:read` "
        "routes and the web app's dashboard), each caller address counted under "
        "ANONYMOUS_TIER; off: every API call needs a token.",
    )
    anonymous_tier: str = Field(
        default="bronze",
        max_length=50,
        description="The quota tier (a key of QUOTA_TIERS) of each anonymous caller address.",
    )

    def cors_origins(self) -> list[str]:
        """The origins of CORS_ALLOW_ORIGINS, each once; none when it is empty."""
        parts = (origin.strip() for origin in self.cors_allow_origins.split(","))
        return list(dict.fromkeys(origin for origin in parts if origin))

    @model_validator(mode="after")
    def _known_anonymous_tier(self) -> Settings:
        if self.anonymous_read and self.anonymous_tier not in self.quota_tiers:
            known = ", ".join(sorted(self.quota_tiers))
            raise ValueError(
                f"CHISO_GATEWAY_ANONYMOUS_TIER {self.anonymous_tier!r} is not a quota tier "
                f"({known})"
            )
        return self

    @model_validator(mode="after")
    def _strong_jwt_secret_in_prod(self) -> Settings:
        if self.env == "prod" and self.jwt_secret is not None:
            size = len(self.jwt_secret.get_secret_value().encode())
            if size < MIN_JWT_SECRET_BYTES:
                raise ValueError(
                    f"CHISO_GATEWAY_JWT_SECRET has {size} bytes; in prod it needs at least "
                    f"{MIN_JWT_SECRET_BYTES} (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'`)"
                )
        return self

    @model_validator(mode="after")
    def _external_issuers_map_known_scopes(self) -> Settings:
        from chiso_gateway.auth.clients import EXTERNAL_SCOPES  # the scope list lives there

        for issuer in self.external_issuers:
            unknown = set(issuer.scope_map.values()) - EXTERNAL_SCOPES
            if unknown:
                raise ValueError(
                    f"CHISO_GATEWAY_EXTERNAL_ISSUERS: {issuer.issuer} maps to "
                    f"{sorted(unknown)}, not scopes an external token may grant "
                    f"({', '.join(sorted(EXTERNAL_SCOPES))})"
                )
            if issuer.tier not in self.quota_tiers:
                raise ValueError(
                    f"CHISO_GATEWAY_EXTERNAL_ISSUERS: {issuer.issuer} tier {issuer.tier!r} "
                    "is not a quota tier"
                )
        return self

    @model_validator(mode="after")
    def _public_url_is_a_base_url(self) -> Settings:
        parts = urlsplit(self.public_url)
        if self.public_url and (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                f"CHISO_GATEWAY_PUBLIC_URL {self.public_url!r} is not a base URL "
                "(https://host[/path], no query or fragment)"
            )
        return self

    @model_validator(mode="after")
    def _keys_dir_in_prod(self) -> Settings:
        if self.env == "prod" and self.jwt_algorithm != "HS256" and self.jwt_keys_dir is None:
            raise ValueError(
                "CHISO_GATEWAY_JWT_KEYS_DIR phải được đặt khi env là prod (thư mục khóa ký "
                "token, tạo bằng `chiso keys generate`). / CHISO_GATEWAY_JWT_KEYS_DIR must "
                "be set when env is prod (the token signing keys; make one with "
                "`chiso keys generate`)"
            )
        return self

    def issuer(self) -> str:
        """The `iss` of the tokens the gateway issues."""
        return self.jwt_issuer or self.public_url.rstrip("/") or LEGACY_ISSUER

    def accepted_issuers(self) -> list[str]:
        return list(dict.fromkeys([self.issuer(), LEGACY_ISSUER]))

    def resolved_keys_dir(self) -> Path:
        return self.jwt_keys_dir or Path(self.data_dir) / "jwt-keys"

    def key_ring(self) -> KeyRing | None:
        """The signing keys (None when JWT_ALGORITHM is HS256). In dev a key is made in the
        key directory (JWT_KEYS_DIR, else under the data dir) when it holds none; in prod
        the directory must be set (`_keys_dir_in_prod`) and hold a key."""
        if self.jwt_algorithm == "HS256":
            return None
        directory = self.resolved_keys_dir()
        try:
            if self.env != "prod" and not any(directory.glob("*.pem")):
                key = generate(directory, self.jwt_algorithm, name="dev")
                log.warning(
                    "dev: made token signing key %s in %s; in production make keys with "
                    "`chiso keys generate`",
                    key.kid,
                    directory,
                )
            return KeyRing(
                self.resolved_keys_dir(),
                token_ttl=self.token_ttl_seconds,
                reload_seconds=self.jwt_keys_reload_seconds,
            )
        except (KeyFileError, OSError) as exc:
            raise RuntimeError(str(exc)) from exc

    def compat_secret(self) -> str | None:
        """The HS256 key whose tokens are accepted: JWT_SECRET, or the signing key when
        JWT_ALGORITHM is HS256."""
        if self.jwt_algorithm == "HS256":
            return self.signing_key()
        return self.jwt_secret.get_secret_value() if self.jwt_secret is not None else None

    def resolved_audit_journal_dir(self) -> Path | None:
        if not self.audit_journal:
            return None
        return self.audit_journal_dir or Path(self.data_dir) / "audit-journal"

    def signing_key(self) -> str:
        """The configured key; in dev, a key generated once and kept under the data dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.env == "prod":
            raise RuntimeError("CHISO_GATEWAY_JWT_SECRET must be set when env is prod")
        path = Path(self.data_dir) / "gateway-jwt.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
