"""`secops <noun> <verb>`: the root group. Each noun lives in its own module and is added here."""

from __future__ import annotations

import sys
from typing import Any

import click

from secops import __version__
from secops.cli.common import CONFIG_HELP, Path
from secops.errors import SecopsError

EXIT_CODES_HELP = """Exit codes: 0 ok, 1 runtime failure or a failed gate, 2 usage,
78 invalid configuration or content."""


class SecopsGroup(click.Group):
    """Turns SecopsError into a one-line message on stderr and its exit code, and a usage error
    into one line and its exit code: 2 for a command line click cannot parse (unknown option,
    missing argument), 78 for a value the command cannot use (cli.common.BadValue)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            where = exc.ctx.command_path if exc.ctx else "secops"
            message = " ".join(exc.format_message().split())
            click.echo(f"secops: error: {message} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        except SecopsError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            click.echo(f"secops: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(
    cls=SecopsGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="secops")
@click.option(
    "--config",
    "config_path",
    type=Path(dir_okay=False),
    envvar="SECOPS_CONFIG",
    help=CONFIG_HELP,
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """secops: correlate security events against your asset topology."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["debug"] = debug


def _register() -> None:
    import importlib

    for name in ("topology", "correlate", "rules", "findings", "es", "kibana", "report", "run"):
        try:
            module = importlib.import_module(f"secops.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"secops.cli.{name}":
                raise
            continue
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="secops")
