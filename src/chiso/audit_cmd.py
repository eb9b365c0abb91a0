"""`chiso audit ...`: check the gateway's hash-chained audit log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(help="The gateway's audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The gateway's data directory.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            help="A chain head logged earlier ('audit chain head' lines); repeatable. "
            "Fails if the chain no longer reaches it, i.e. rows were cut off its end.",
        ),
    ] = None,
) -> None:
    """Re-compute every row's hash and link; exit 1 at the first row that does not match,
    or when an anchor is no longer in the chain."""
    from chiso.admin import gateway_settings_or_exit, verify_audit

    result = asyncio.run(verify_audit(gateway_settings_or_exit(data_dir), anchor or []))
    if as_json:
        typer.echo(json.dumps(result.__dict__))
    elif result.ok:
        typer.echo(
            f"chuỗi kiểm toán nguyên vẹn: {result.rows} dòng, đầu chuỗi {result.head} / "
            f"audit chain ok: {result.rows} rows, head {result.head}"
        )
    elif result.broken_at is None:
        typer.echo(
            f"chuỗi kiểm toán BỊ CẮT (các dòng cuối đã mất); còn {result.rows} dòng / "
            f"audit chain CUT: {result.reason}; {result.rows} rows remain",
            err=True,
        )
    else:
        typer.echo(
            f"chuỗi kiểm toán HỎNG ở dòng {result.broken_at}; {result.rows} dòng trước đó còn "
            f"nguyên / audit chain BROKEN at row {result.broken_at} ({result.reason}); "
            f"{result.rows} rows before it are intact",
            err=True,
        )
    if not result.ok:
        raise typer.Exit(1)
