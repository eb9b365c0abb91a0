"""A typer command whose help and command-line mistakes read in Vietnamese, then English.

Typer writes its own words ("Usage:", the "Arguments"/"Options" panels, the `--help` option's
line, "Invalid value for ...", "No such option ...") in English only, and a person running
`chiso` may read only Vietnamese. Use it as `@app.command(cls=BilingualCommand)`.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer

# Typer vendors click under `typer._click`; the methods overridden here take its types.
from typer._click.core import Command, Context
from typer._click.exceptions import BadOptionUsage, NoSuchOption, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

ARGUMENTS_PANEL = "Tham số (Arguments)"
OPTIONS_PANEL = "Tùy chọn (Options)"
COMMANDS_PANEL = "Lệnh (Commands)"
OPTIONS_METAVAR = "[TÙY CHỌN/OPTIONS]"
SUBCOMMAND_METAVAR = "LỆNH/COMMAND [THAM SỐ/ARGS]..."
USAGE_PREFIX = "Cách dùng (Usage): "
HELP_OPTION_HELP = "In trợ giúp này rồi thoát. / Show this message and exit."
# Typer's own options of the top-level command (`--install-completion`, `--show-completion`).
COMPLETION_HELP = {
    "install_completion": "Cài tự hoàn thành lệnh cho shell đang dùng. / "
    "Install completion for the current shell.",
    "show_completion": "In đoạn tự hoàn thành lệnh cho shell đang dùng (để chép hoặc sửa). / "
    "Show completion for the current shell, to copy it or customize the installation.",
}


class _BilingualHelp:
    """The usage line, the panels and `--help` in both languages, for a command or a group."""

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        # Here, not at creation: typer adds a group's commands and its completion options
        # after the group is made.
        self._name_panels(ctx)
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def _name_panels(self, ctx: Context) -> None:
        for command in getattr(self, "commands", {}).values():
            if not getattr(command, "rich_help_panel", None):  # None or typer's unset default
                command.rich_help_panel = COMMANDS_PANEL
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if isinstance(param, TyperArgument) and param.rich_help_panel is None:
                param.rich_help_panel = ARGUMENTS_PANEL
            elif isinstance(param, TyperOption):
                if param.rich_help_panel is None:
                    param.rich_help_panel = OPTIONS_PANEL
                if param.name in COMPLETION_HELP:
                    param.help = COMPLETION_HELP[param.name]

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option: TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:  # typer makes it once and keeps it, so this runs on one object
            option.help = HELP_OPTION_HELP
            option.rich_help_panel = OPTIONS_PANEL
        return option


class BilingualGroup(_BilingualHelp, TyperGroup):
    """A group of commands (`chiso`, `chiso clients`) whose help reads in both languages. Use
    it as `typer.Typer(cls=BilingualGroup)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = OPTIONS_METAVAR
        if kwargs.get("subcommand_metavar") is None:
            kwargs["subcommand_metavar"] = SUBCOMMAND_METAVAR
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            report_usage_error(ctx, exc)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            unknown = args[0] if args and self.get_command(ctx, args[0]) is None else ""
            report_usage_error(ctx, exc, unknown)


class BilingualCommand(_BilingualHelp, TyperCommand):
    """Help panels, usage line and `--help` in both languages; a mistake typer finds while
    reading the command line is reported in both and ends the command with status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = OPTIONS_METAVAR
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            report_usage_error(ctx, exc)


def report_usage_error(ctx: Context, exc: UsageError, command_name: str = "") -> NoReturn:
    """A command-line mistake in both languages on stderr, then exit 2."""
    command = ctx.command_path
    print(
        f"{command}: {vietnamese_reason(exc, command_name)}; xem `{command} --help`. / "
        f"{exc.format_message()}",
        file=sys.stderr,
    )
    raise typer.Exit(2) from exc


def vietnamese_reason(exc: UsageError, command_name: str = "") -> str:
    """The Vietnamese half of a command-line mistake, as precise as typer's English one for the
    mistakes a person makes most (an unknown command or option, an option without its value)."""
    if command_name:
        return f"không có lệnh {command_name!r}"
    if isinstance(exc, NoSuchOption):
        return f"không có tùy chọn {exc.option_name}"
    if isinstance(exc, BadOptionUsage):
        return f"tùy chọn {exc.option_name} dùng sai"
    return "lệnh viết sai"
