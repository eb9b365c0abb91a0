"""A typer command whose help and command-line mistakes read in Vietnamese, then English.

Typer writes its own words ("Usage:", the "Arguments"/"Options" panels, the `--help` option's
line, "Invalid value for ...", "No such option ...") in English only, and a person running
`chiso` may read only Vietnamese. Use it as `@app.command(cls=BilingualCommand)`.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

# Typer vendors click under `typer._click`; the methods overridden here take its types.
from typer._click.core import Context
from typer._click.exceptions import BadOptionUsage, NoSuchOption, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperOption

ARGUMENTS_PANEL = "Tham số (Arguments)"
OPTIONS_PANEL = "Tùy chọn (Options)"
OPTIONS_METAVAR = "[TÙY CHỌN/OPTIONS]"
USAGE_PREFIX = "Cách dùng (Usage): "
HELP_OPTION_HELP = "In trợ giúp này rồi thoát. / Show this message and exit."


class BilingualCommand(TyperCommand):
    """Help panels, usage line and `--help` in both languages; a mistake typer finds while
    reading the command line is reported in both and ends the command with status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = OPTIONS_METAVAR
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and param.rich_help_panel is None:
                param.rich_help_panel = ARGUMENTS_PANEL
            elif isinstance(param, TyperOption) and param.rich_help_panel is None:
                param.rich_help_panel = OPTIONS_PANEL

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:  # typer makes it once and keeps it, so this runs on one object
            option.help = HELP_OPTION_HELP
            option.rich_help_panel = OPTIONS_PANEL
        return option

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            command = ctx.command_path
            print(
                f"{command}: {vietnamese_reason(exc)}; xem `{command} --help`. / "
                f"{exc.format_message()}",
                file=sys.stderr,
            )
            raise typer.Exit(2) from exc


def vietnamese_reason(exc: UsageError) -> str:
    """The Vietnamese half of a command-line mistake, as precise as typer's English one for the
    mistakes a person makes most (an unknown option, an option without its value)."""
    if isinstance(exc, NoSuchOption):
        return f"không có tùy chọn {exc.option_name}"
    if isinstance(exc, BadOptionUsage):
        return f"tùy chọn {exc.option_name} dùng sai"
    return "lệnh viết sai"
