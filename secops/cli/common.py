"""Shared CLI plumbing: the option vocabulary, consoles, JSON output, config, progress.

One vocabulary for every command: the same meaning has the same spelling everywhere
(`-t/--topology`, `-r/--rules`, `-o/--output`, `--json`, `--tz`, `--year`, `--es-url`,
`--config`, `--exceptions`, `--data-dir`, `--since`), each checked at the edge by a click type
over the plain validators of `secops.config` (a bad flag: one line, exit 2), and resolved in one
place, `settings()`: flag > environment (SECOPS_*) > secops.yaml > default.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from secops.config import (
    Config,
    load_config,
    valid_duration,
    valid_port,
    valid_since,
    valid_tz,
    valid_url,
    valid_urls,
    valid_year,
)
from secops.errors import ConfigError

#: a click command function, as a decorator takes and returns it
F = TypeVar("F", bound=Callable[..., Any])

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}


class BadValue(click.BadParameter):
    """A value the command cannot use (an unknown zone, a port out of range): invalid
    configuration, exit 78, whether it came from a flag, the environment or secops.yaml.
    A command line click cannot parse (unknown option, missing value) stays usage, exit 2."""

    exit_code = 78


class Checked(click.ParamType):
    """A click type over a plain `valid_*` function: its ConfigError becomes `BadValue`."""

    def __init__(self, name: str, check: Any, metavar: str) -> None:
        self.name, self.check, self.metavar = name, check, metavar

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.check(value)
        except ConfigError as exc:
            raise BadValue(exc.message, ctx, param) from None


TZ = Checked("tz", valid_tz, "ZONE")
YEAR = Checked("year", valid_year, "YEAR")
PORT = Checked("port", valid_port, "PORT")
URL = Checked("url", valid_url, "URL")
URLS = Checked("url", valid_urls, "URL[,URL...]")
SINCE = Checked("since", valid_since, "TIME")
DURATION = Checked("duration", lambda v: valid_duration(v) and str(v).strip(), "DURATION")


class Path(click.Path):
    """click.Path that reports a name the OS refuses (a NUL byte, too long) as a usage error."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except (ValueError, OSError) as exc:
            if isinstance(exc, click.BadParameter):
                raise
            self.fail(f"{value!r}: {exc}", param, ctx)


class Aliased(click.Option):
    """An option with deprecated spellings that still work, are not shown in --help, and say
    so on stderr when used (`--out` -> `-o/--output`)."""

    def __init__(self, *args: Any, hidden_names: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hidden_names = hidden_names

    @property
    def _old_dest(self) -> str:
        return f"{self.name}:deprecated"

    def _shown(self) -> list[str]:
        return [o for o in self.opts if o not in self.hidden_names]

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        opts, self.opts = self.opts, self._shown()
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = opts

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        opts, self.opts = self.opts, self._shown()
        try:
            super().add_to_parser(parser, ctx)
        finally:
            self.opts = opts
        old = [o for o in self.opts if o in self.hidden_names]
        parser.add_option(obj=self, opts=old, dest=self._old_dest, action="store", nargs=self.nargs)

    def consume_value(self, ctx: click.Context, opts: Any) -> Any:
        if self._old_dest in opts:
            new = "/".join(self._shown())
            old = "/".join(self.hidden_names)
            click.echo(f"secops: warning: {old} is deprecated, use {new}", err=True)
            opts = {self.name: opts[self._old_dest], **opts}
        return super().consume_value(ctx, opts)


def _store_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)
        root = ctx.find_root()
        root.obj["config_path"] = value
        root.obj.pop("config", None)


CONFIG_HELP = "Config file (default: ./secops.yaml when present; env SECOPS_CONFIG)."
#: `--config` on every command too (`secops correlate --config f`), same as `secops --config f`.
CONFIG_OPTION = click.option(
    "--config",
    type=Path(dir_okay=False),
    expose_value=False,
    is_eager=True,
    callback=_store_config,
    help=CONFIG_HELP,
)
JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout."
)
DATA_DIR_OPTION = click.option(
    "--data-dir",
    type=Path(file_okay=False),
    help="Local store and user state (env SECOPS_DATA_DIR; default ~/.local/share/secops).",
)
TOPOLOGY_OPTION = click.option(
    "-t",
    "--topology",
    type=Path(exists=True),
    help="Topology file or directory (env SECOPS_TOPOLOGY, secops.yaml 'topology').",
)
RULES_OPTION = click.option(
    "-r",
    "--rules",
    multiple=True,
    type=Path(exists=True),
    help="Rule file or directory, repeatable (env SECOPS_RULES, secops.yaml 'rules'; "
    "default: the shipped library).",
)
TZ_OPTION = click.option(
    "--tz",
    type=TZ,
    help="Time zone of syslog lines that carry none (env SECOPS_TZ, secops.yaml 'tz'; default UTC).",
)
YEAR_OPTION = click.option(
    "--year",
    type=YEAR,
    help="Year of syslog lines that carry none, 1678-2261 (env SECOPS_YEAR, secops.yaml 'year'; "
    "default: inferred from today).",
)
ES_URL_OPTION = click.option(
    "--es-url",
    type=URLS,
    help="Elasticsearch URL(s) (env SECOPS_ES_URL, secops.yaml 'es.urls').",
)
EXCEPTIONS_OPTION = click.option(
    "--exceptions",
    type=Path(file_okay=False),
    help="Accepted analyst exceptions folder (env SECOPS_EXCEPTIONS, secops.yaml 'exceptions'; "
    "default <data dir>/exceptions).",
)
SINCE_OPTION_HELP = "a duration ago (30m, 24h, 7d) or an ISO 8601 time"


def output_option(help: str, **kw: Any) -> Callable[[F], F]:
    """`-o/--output` (and the deprecated `--out`, hidden)."""
    kw.setdefault("type", Path(dir_okay=False, allow_dash=True))
    return click.option(
        "-o", "--output", "--out", "output", cls=Aliased, hidden_names=("--out",), help=help, **kw
    )


def settings(ctx: click.Context, **flags: Any) -> Config:
    """The one resolution: flag > environment (SECOPS_*) > secops.yaml > default."""
    return config(ctx).merged(**flags)


def _console(stream: Any) -> Console:
    tty = stream.isatty()
    return Console(file=stream, soft_wrap=True, highlight=False, width=None if tty else 200)


def out() -> Console:
    return _console(sys.stdout)


def err() -> Console:
    return _console(sys.stderr)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def config(ctx: click.Context) -> Config:
    root = ctx.find_root()
    if "config" not in root.obj:
        root.obj["config"] = load_config(root.obj.get("config_path"))
    return root.obj["config"]


def severity(text: str) -> str:
    return f"[{SEVERITY_STYLE.get(text, '')}]{text}[/]"


@contextmanager
def progress(label: str) -> Iterator[Any]:
    """A progress callback (lines done) shown on a terminal; silent when piped."""
    console = err()
    if not console.is_terminal:
        yield lambda n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} lines"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)
