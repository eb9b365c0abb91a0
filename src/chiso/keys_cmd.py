"""`chiso keys ...`: the gateway's token signing keys (see chiso_gateway.auth.keys)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chiso.bilingual import BilingualCommand, BilingualGroup

if TYPE_CHECKING:
    from chiso_gateway.auth.keys import KeyRing, SigningKey

keys_app = typer.Typer(
    cls=BilingualGroup,
    help="Khóa ký token của gateway. / The gateway's token signing keys.",
    no_args_is_help=True,
)


class KeyAlgorithm(StrEnum):
    EdDSA = "EdDSA"
    RS256 = "RS256"


KeysDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Thư mục khóa; mặc định CHISO_GATEWAY_JWT_KEYS_DIR, hoặc DATA_DIR/jwt-keys. / "
        "The key directory; default CHISO_GATEWAY_JWT_KEYS_DIR, else DATA_DIR/jwt-keys.",
    ),
]
AlgorithmOption = Annotated[
    KeyAlgorithm | None,
    typer.Option(
        "--algorithm",
        help="Loại khóa; mặc định CHISO_GATEWAY_JWT_ALGORITHM. / Key kind; default "
        "CHISO_GATEWAY_JWT_ALGORITHM.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Chỉ in JSON. / Print JSON only.")]


def _settings() -> Any:
    from chiso_gateway.settings import Settings

    return Settings()


def _directory(directory: Path | None, settings: Any) -> Path:
    return directory or Path(settings.resolved_keys_dir())


def _algorithm(algorithm: KeyAlgorithm | None, settings: Any) -> Any:
    if algorithm is not None:
        return algorithm.value
    return "EdDSA" if settings.jwt_algorithm == "HS256" else settings.jwt_algorithm


def _iso(moment: float | None) -> str | None:
    if moment is None or moment in (0.0, float("inf")):
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def _made(key: SigningKey, directory: Path) -> None:
    typer.echo(f"kid:        {key.kid}")
    typer.echo(f"file:       {directory / (key.name + '.pem')}")
    typer.echo(f"algorithm:  {key.algorithm}")
    typer.echo(f"signs from: {_iso(key.not_before) or 'ngay / now'}")


@keys_app.command(
    "generate",
    cls=BilingualCommand,
    help="Tạo một khóa mới; nó ký ngay (hoặc từ --not-before). / Make a new key; it signs at "
    "once (or from --not-before).",
)
def generate_key(
    directory: KeysDir = None,
    algorithm: AlgorithmOption = None,
    not_before: Annotated[
        datetime | None,
        typer.Option(
            "--not-before",
            help="Thời điểm (UTC) khóa bắt đầu ký. / When (UTC) the key starts signing.",
        ),
    ] = None,
) -> None:
    from chiso_gateway.auth.keys import generate

    settings = _settings()
    where = _directory(directory, settings)
    moment = not_before.replace(tzinfo=not_before.tzinfo or UTC).timestamp() if not_before else None
    _made(generate(where, _algorithm(algorithm, settings), not_before=moment), where)


@keys_app.command(
    "rotate",
    cls=BilingualCommand,
    help="Tạo khóa kế tiếp: công bố ngay, ký sau JWT_KEY_PUBLISH_AHEAD_SECONDS; khóa cũ thôi ký "
    "khi đó và rời JWKS khi token của nó hết hạn. / Make the next key: published at once, "
    "signing after JWT_KEY_PUBLISH_AHEAD_SECONDS; the old key stops signing then and leaves "
    "the JWKS once its tokens have expired.",
)
def rotate_key(directory: KeysDir = None, algorithm: AlgorithmOption = None) -> None:
    from chiso_gateway.auth.keys import CLOCK_SKEW_SECONDS, generate

    settings = _settings()
    where = _directory(directory, settings)
    starts = time.time() + settings.jwt_key_publish_ahead_seconds
    key = generate(where, _algorithm(algorithm, settings), not_before=starts)
    _made(key, where)
    until = _iso(starts + settings.token_ttl_seconds + CLOCK_SKEW_SECONDS)
    typer.echo(
        f"Các khóa cũ rời JWKS lúc {until}; xóa tệp của chúng sau đó. / "
        f"The older keys leave the JWKS at {until}; delete their files after that."
    )


@keys_app.command(
    "retire",
    cls=BilingualCommand,
    help="Cho một khóa thôi ký ngay; nó còn được công bố tới khi token của nó hết hạn. / Stop "
    "a key signing now; it stays published until its tokens have expired.",
)
def retire_key(
    kid: Annotated[str, typer.Argument(help="kid của khóa. / The key's kid.")],
    directory: KeysDir = None,
) -> None:
    from chiso_gateway.auth.keys import read_dir, write_times

    where = _directory(directory, _settings())
    for key in read_dir(where):
        if key.kid == kid:
            path, now = where / f"{key.name}.pem", time.time()
            write_times(path, not_before=key.not_before or None, retired_at=now)
            typer.echo(f"đã cho thôi ký / retired {kid}")
            return
    typer.echo(f"không có khóa {kid} trong {where} / no key {kid} in {where}", err=True)
    raise typer.Exit(1)


def _state(ring: KeyRing, key: SigningKey, signer: SigningKey, now: float) -> str:
    if key is signer:
        return "signing"
    if not ring.is_published(key, now):
        return "unpublished"
    if key.not_before > now and (key.retired_at is None or key.retired_at > now):
        return "published-ahead"
    return "retiring"


@keys_app.command(
    "list",
    cls=BilingualCommand,
    help="Liệt kê các khóa: đang ký, công bố trước, đang rút (còn trong JWKS), hết công bố (xóa "
    "được). / List the keys: signing, published ahead, retiring (still in the JWKS), "
    "unpublished (its file can be deleted).",
)
def list_keys(directory: KeysDir = None, as_json: AsJson = False) -> None:
    from chiso_gateway.auth.keys import CLOCK_SKEW_SECONDS, KeyFileError, KeyRing

    settings = _settings()
    where = _directory(directory, settings)
    try:
        ring = KeyRing(where, token_ttl=settings.token_ttl_seconds, reload_seconds=3600)
    except (KeyFileError, OSError) as exc:
        typer.echo(f"lỗi / error: {exc}", err=True)
        raise typer.Exit(1) from exc
    now = time.time()
    signer = ring.signer(now)
    rows = [
        {
            "kid": key.kid,
            "file": key.name + ".pem",
            "algorithm": key.algorithm,
            "state": _state(ring, key, signer, now),
            "not_before": _iso(key.not_before),
            "signs_until": _iso(ring.signing_until(key)),
            "published_until": _iso(
                ring.signing_until(key) + settings.token_ttl_seconds + CLOCK_SKEW_SECONDS
            ),
        }
        for key in ring.keys
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['kid']}  {row['state']:15}  {row['algorithm']:5}  {row['file']}  "
            f"published until {row['published_until'] or '-'}"
        )
