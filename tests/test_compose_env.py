"""docker-compose.yml for a first try, and its `.env.example`: every variable the compose file
reads is documented there, every secret is a published placeholder the services refuse with
`ENV=prod`, and a real secret is taken.

No Docker engine is needed: the compose file is read as YAML and interpolated here the way
compose does with the variables unset (`${VAR:-default}`) or set from `.env`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from chiso_gateway.auth.keys import generate
from chiso_shared.example_secrets import EXAMPLE_SECRETS, is_example_secret
from tests.support import SERVICES, free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"(SECRET|PASSWORD)$")
REFUSAL_EN = "is a published example value"
REFUSAL_VI = "đang là giá trị mẫu công khai"


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            assert name not in values, f".env.example sets {name} twice"
            values[name.strip()] = value.strip()
    return values


def references() -> list[tuple[str, str, str]]:
    """Every `${VAR...}` of docker-compose.yml: (name, operator, default or message)."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    return [(m[1], m[2] or "", m[3] or "") for m in REFERENCE.finditer(text)]


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of one value, with `variables` as the environment/.env."""

    def one(match: re.Match[str]) -> str:
        name, operator, default = match[1], match[2] or "", match[3] or ""
        given = variables.get(name)
        if operator == ":-" and not given or operator == "-" and given is None:
            return default
        if operator.endswith("?") and not given:
            raise AssertionError(f"compose refuses: {name}: {default}")
        return given or ""

    return REFERENCE.sub(one, value)


def service_env(service: str, variables: dict[str, str]) -> dict[str, str]:
    yaml = pytest.importorskip("yaml")
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    env = compose["services"][service]["environment"]
    return {k: interpolate(str(v), variables) for k, v in env.items()}


def settings_of(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib

    for name in list(os.environ):
        if name.startswith(f"CHISO_{service.upper()}_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return importlib.import_module(f"chiso_{service}.settings").Settings()


def test_env_example_documents_every_variable_the_compose_file_reads() -> None:
    documented = env_example()
    used = {name for name, _, _ in references()}
    assert used, "docker-compose.yml reads no variable?"
    assert sorted(used - set(documented)) == [], "read by compose, missing from .env.example"
    assert sorted(set(documented) - used) == [], "in .env.example, read by nothing"


def test_every_secret_is_a_published_placeholder_the_compose_file_defaults_to() -> None:
    documented = env_example()
    secrets = {name for name in documented if SECRET_NAME.search(name)}
    assert {"CHISO_GATEWAY_JWT_SECRET", "CHISO_SERVICE_TOKEN_SECRET", "POSTGRES_PASSWORD"} <= (
        secrets
    )
    for name in secrets:
        value = documented[name]
        assert value.startswith("change-me-"), f"{name}: not an obvious placeholder"
        assert is_example_secret(value), f"{name}: the services do not refuse {value!r}"
    for name, operator, default in references():
        if name in secrets:
            # Without a .env, compose runs with .env.example's values: the same refusal.
            assert operator == ":-" and default == documented[name], (name, operator, default)
    # Every placeholder the list holds is one compose or .env.example published.
    published = set(documented.values()) | {default for _, _, default in references()}
    old_defaults = {"chiso", *(s for s in EXAMPLE_SECRETS if s.startswith("local-compose"))}
    assert EXAMPLE_SECRETS - old_defaults <= published


@pytest.mark.parametrize("container", [*SERVICES, *(f"migrate-{s}" for s in SERVICES)])
def test_compose_in_prod_with_the_placeholders_is_refused(
    container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = container.removeprefix("migrate-")
    variables = {**env_example(), "CHISO_ENV": "prod"}
    with pytest.raises(ValidationError) as refused:
        settings_of(service, service_env(container, variables), monkeypatch)
    message = str(refused.value)
    assert REFUSAL_EN in message and REFUSAL_VI in message

    # Each secret alone still refuses: replace all but one with real values.
    secrets = [name for name in env_example() if SECRET_NAME.search(name)]
    real = {name: f"real-{name.lower().replace('_', '-')}-0123456789abcdef" for name in secrets}
    for kept in secrets:
        one_left = {**variables, **real, kept: variables[kept]}
        env = service_env(container, one_left)
        if variables[kept] not in "".join(env.values()):
            continue  # this service does not get that secret
        with pytest.raises(ValidationError, match=REFUSAL_EN):
            settings_of(service, env, monkeypatch)

    # With real secrets everywhere it takes them; in dev the placeholders are fine.
    real_env = service_env(container, {**variables, **real})
    assert settings_of(service, real_env, monkeypatch).env == "prod"
    dev = {**env_example(), "CHISO_ENV": "dev"}
    assert settings_of(service, service_env(container, dev), monkeypatch).env == "dev"


def test_no_env_file_means_dev_with_the_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in SERVICES:
        env = service_env(service, {})
        assert env[f"CHISO_{service.upper()}_ENV"] == "dev"
        assert settings_of(service, env, monkeypatch).env == "dev"


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-gateway-jwt-secret-at-least-32-bytes",
        "local-compose-only-not-a-secret-change-me",
        " change-me-service-token-secret-at-least-32-bytes\n",
    ],
)
def test_prod_gateway_refuses_a_published_jwt_secret(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chiso_gateway.main import create_app

    monkeypatch.setenv("CHISO_GATEWAY_ENV", "prod")
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", secret)
    with pytest.raises(ValidationError, match="CHISO_GATEWAY_JWT_SECRET " + REFUSAL_EN):
        create_app()


@pytest.mark.parametrize("service", SERVICES)
def test_prod_refuses_a_published_service_token_secret_and_database_password(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = f"CHISO_{service.upper()}_"
    monkeypatch.setenv(own + "ENV", "prod")
    monkeypatch.setenv("CHISO_GATEWAY_JWT_SECRET", "a-real-jwt-secret-0123456789abcdefghij")
    monkeypatch.setenv(
        own + "SERVICE_TOKEN_SECRET", "change-me-service-token-secret-at-least-32-bytes"
    )
    with pytest.raises(ValidationError, match=own + "SERVICE_TOKEN_SECRET " + REFUSAL_EN):
        settings_of(service, dict(os.environ), monkeypatch)
    monkeypatch.setenv(own + "SERVICE_TOKEN_SECRET", "a-real-service-token-secret-0123456789")
    monkeypatch.setenv(
        own + "MIGRATION_DATABASE_URL",
        "postgresql+asyncpg://chiso:change-me-postgres-password@postgres/chiso_x",
    )
    with pytest.raises(ValidationError, match=f"the password in {own}MIGRATION_DATABASE_URL"):
        settings_of(service, dict(os.environ), monkeypatch)


@pytest.fixture
def gateway_command(tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str], int]]:
    port = free_port()
    keys = tmp_path / "jwt-keys"
    generate(keys, "EdDSA", name="prod")  # prod signs with keys made beforehand
    env = {
        **os.environ,
        "CHISO_GATEWAY_ENV": "prod",
        "CHISO_GATEWAY_JWT_KEYS_DIR": str(keys),
        "CHISO_GATEWAY_DATA_DIR": str(tmp_path),
        "CHISO_GATEWAY_MIGRATE_ON_START": "true",
        "CHISO_GATEWAY_AUDIT_ENABLED": "false",
    }
    yield [sys.executable, "-m", "chiso", "serve", "gateway", "--port", str(port)], env, port


def test_chiso_serve_in_prod_refuses_the_example_secret_then_starts_with_a_real_one(
    gateway_command: tuple[list[str], dict[str, str], int], tmp_path: Path
) -> None:
    command, env, port = gateway_command
    example = env_example()["CHISO_GATEWAY_JWT_SECRET"]
    refused = subprocess.run(
        command,
        env={**env, "CHISO_GATEWAY_JWT_SECRET": example},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert f"CHISO_GATEWAY_JWT_SECRET {REFUSAL_EN}" in refused.stderr
    assert REFUSAL_VI in refused.stderr
    assert "Traceback" not in refused.stderr and "input_value" not in refused.stderr

    log = (tmp_path / "serve.log").open("wb")
    real = {**env, "CHISO_GATEWAY_JWT_SECRET": "a-real-jwt-secret-0123456789abcdefghijklmn"}
    process = subprocess.Popen(command, env=real, stdout=log, stderr=log, start_new_session=True)
    log.close()
    try:
        wait_until_healthy(port, process, tmp_path / "serve.log", "the gateway", 90)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
