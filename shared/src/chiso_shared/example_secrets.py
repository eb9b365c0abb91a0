"""Secrets that are published, so never secret: what `.env.example` and docker-compose.yml
give as placeholders. A service started with `ENV=prod` refuses to run with any of them.

Compose can only refuse an unset variable (`${VAR:?}`), not compare a value, so the services
check: every secret setting (a `SecretStr` field, whichever a service has) and the password
of every URL setting (`DATABASE_URL`, `MIGRATION_DATABASE_URL`, `REDIS_URL`, ...).
`tests/test_compose_env.py` holds `.env.example` and the compose defaults to this list.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings

EXAMPLE_SECRETS = frozenset(
    {
        # .env.example and docker-compose.yml's defaults
        "change-me-postgres-password",
        "change-me-gateway-db-password",
        "change-me-ingest-db-password",
        "change-me-indicators-db-password",
        "change-me-gateway-jwt-secret-at-least-32-bytes",
        "change-me-service-token-secret-at-least-32-bytes",
        # docker-compose.yml's defaults before .env.example existed
        "chiso",
        "local-compose-only-not-a-secret-change-me",
        "local-compose-only-service-token-secret-change-me",
    }
)


class ExampleSecretError(ValueError):
    """A published example value where a real secret is needed (a bilingual message)."""


def is_example_secret(value: str) -> bool:
    return value.strip() in EXAMPLE_SECRETS


def refuse_example_secret(value: str | None, setting: str, *, in_url: bool = False) -> None:
    """Raise `ExampleSecretError` when `value` is one of the published example values;
    `in_url`: it is the password of the URL in `setting`."""
    if value is None or not is_example_secret(value):
        return
    vi, en = (
        (f"mật khẩu trong {setting}", f"the password in {setting}")
        if in_url
        else (
            setting,
            setting,
        )
    )
    raise ExampleSecretError(
        f"{vi} đang là giá trị mẫu công khai (từ .env.example hoặc docker-compose.yml); khi "
        "ENV=prod hãy đặt một bí mật thật, ví dụ `python -c 'import secrets; "
        f"print(secrets.token_urlsafe(48))'`. / {en} is a published example value (from "
        ".env.example or docker-compose.yml); with ENV=prod set a real secret, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
    )


def url_password(value: str) -> str | None:
    """The password of a URL (`scheme://user:password@host/...`), or None."""
    if "://" not in value:
        return None
    try:
        password = urlsplit(value).password
    except ValueError:
        return None
    return unquote(password) if password is not None else None


def refuse_example_secrets(settings: BaseSettings) -> None:
    """Check every secret field and every URL's password of `settings` (any service's)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        setting = f"{prefix}{name.upper()}"
        if isinstance(value, SecretStr):
            refuse_example_secret(value.get_secret_value(), setting)
        elif isinstance(value, str):
            refuse_example_secret(url_password(value), setting, in_url=True)
