"""Shared CLI plumbing: consoles, JSON output, config, severity colours, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from secops.config import Config, load_config

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout."
)
DATA_DIR_OPTION = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="SECOPS_DATA_DIR",
    help="Local store directory (env SECOPS_DATA_DIR).",
)


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
