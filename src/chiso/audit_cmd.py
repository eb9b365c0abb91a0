"""`chiso audit ...`: check the gateway's hash-chained audit log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from chiso.bilingual import BilingualCommand, BilingualGroup

audit_app = typer.Typer(
    cls=BilingualGroup,
    help="Nhật ký kiểm toán của gateway. / The gateway's audit log.",
    no_args_is_help=True,
)


@audit_app.command(
    "verify",
    cls=BilingualCommand,
    help="Tính lại băm và liên kết của mọi dòng; thoát với mã 1 ở dòng đầu tiên không khớp, "
    "hoặc khi một mốc không còn trong chuỗi. / Re-compute every row's hash and link; exit 1 "
    "at the first row that does not match, or when an anchor is no longer in the chain.",
)
def verify(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Thư mục dữ liệu của gateway; mặc định: của chiso đang chạy, hoặc ./.chiso. / "
            "The gateway's data directory; by default the running suite's, or ./.chiso.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Chỉ in JSON. / Print JSON only.")
    ] = False,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            help="Một đầu chuỗi đã ghi trong nhật ký (dòng 'audit chain head'); lặp lại được. "
            "Báo lỗi nếu chuỗi không còn tới nó, tức các dòng cuối đã bị cắt. / "
            "A chain head logged earlier ('audit chain head' lines); repeatable. "
            "Fails if the chain no longer reaches it, i.e. rows were cut off its end.",
        ),
    ] = None,
) -> None:
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
