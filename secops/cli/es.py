"""`secops es setup|status`: the findings index template, write alias and cluster state."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.table import Table

from secops.cli.common import CONFIG_OPTION, ES_URL_OPTION, JSON_OPTION, config, echo_json, err, out
from secops.collect.elasticsearch import Search, iter_es_events
from secops.elastic import EsSettings, connect
from secops.errors import CollectError, SinkError
from secops.normalise import ParseReport
from secops.sink.es_index import rollover as rollover_index
from secops.sink.es_index import setup as setup_index
from secops.sink.es_index import status as index_status

EXIT_HELP = (
    "Exit codes: 0 ok, 1 cluster unreachable or refused, 78 invalid configuration. "
    "Connection: --es-url, else SECOPS_ES_URL, else `es: {urls: ...}` in secops.yaml; "
    "credentials from SECOPS_ES_API_KEY or SECOPS_ES_USERNAME/SECOPS_ES_PASSWORD or the file."
)


def es_settings(ctx: click.Context, url: str | None) -> EsSettings:
    cfg = config(ctx)
    return EsSettings.resolve(cfg.es, url=url, file=cfg.file)


def es_events(
    settings: EsSettings,
    pattern: str | None,
    since: str | None,
    query: str | None,
    report: ParseReport,
    dead_letter: str | Path | None,
) -> Iterable[pd.DataFrame]:
    """Pages of events from `pattern` (nothing without one); a usage error without a cluster."""
    if not pattern:
        if since or query:
            raise click.UsageError("--since and --query need --es-source")
        return ()
    if not settings.configured:
        raise click.UsageError("--es-source needs a cluster: --es-url, SECOPS_ES_URL or es.urls")
    client = connect(settings, CollectError)
    search = Search(pattern, since=since, query=query)
    return iter_es_events(client, search, report=report, dead_letter=dead_letter)


@click.group(epilog=EXIT_HELP)
def es() -> None:
    """The findings index in Elasticsearch: set it up, check it."""


@es.command(epilog=EXIT_HELP)
@ES_URL_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def setup(ctx: click.Context, es_url: str | None, as_json: bool) -> None:
    """Create (or update) the index template, the first index and the write alias. Idempotent."""
    settings = es_settings(ctx, es_url)
    result = setup_index(connect(settings, SinkError), settings.index)
    if as_json:
        echo_json(result)
        return
    made = "created" if result["created_index"] else "already present"
    err().print(
        f"template {result['template']} for {result['pattern']}; write alias {result['alias']} "
        f"{made} on {settings.where}"
    )


@es.command(epilog=EXIT_HELP)
@ES_URL_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def status(ctx: click.Context, es_url: str | None, as_json: bool) -> None:
    """Cluster health, template version, write index and finding counts."""
    settings = es_settings(ctx, es_url)
    result = index_status(connect(settings, SinkError), settings.index)
    if as_json:
        echo_json(result)
        return
    show_status(result, settings.where)


@es.command(epilog=EXIT_HELP)
@ES_URL_OPTION
@click.option(
    "--max-docs",
    type=click.IntRange(min=1),
    help="Roll over when the write index holds this many findings (es.rollover_max_docs).",
)
@click.option(
    "--max-size",
    metavar="SIZE",
    help="Roll over when its primary shard reaches this size, e.g. 50gb (es.rollover_max_size).",
)
@click.option("--dry-run", is_flag=True, help="Say whether it would roll over; change nothing.")
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def rollover(
    ctx: click.Context,
    es_url: str | None,
    max_docs: int | None,
    max_size: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Point the write alias at a new index once the current one passes a size or count
    (the rollover API; for cron, or a cluster without ILM). Below the limits nothing changes."""
    settings = es_settings(ctx, es_url)
    result = rollover_index(
        connect(settings, SinkError),
        settings.index,
        max_docs=max_docs or settings.rollover_max_docs,
        max_size=max_size or settings.rollover_max_size,
        dry_run=dry_run,
    )
    if as_json:
        echo_json(result)
        return
    verb = "would roll" if dry_run else "rolled"
    if result["rolled_over"] or (dry_run and any(result["conditions"].values())):
        err().print(f"{verb} {settings.index} over: {result['old_index']} -> {result['new_index']}")
    else:
        err().print(f"{settings.index} stays on {result['old_index']} (below the limits)")


def show_status(result: dict[str, Any], where: str) -> None:
    console = out()
    tpl = result["template"]
    note = "" if result["template_current"] else "  (run 'secops es setup')"
    console.print(
        f"cluster {result['cluster']} at {where}: {result['health']}, {result['nodes']} node(s)\n"
        f"template {result['alias']}: {'version ' + str(tpl) if tpl else 'missing'}{note}\n"
        f"write index: {result['write_index'] or '-'}; findings: {result['findings']:,}"
    )
    if result["indices"]:
        table = Table(title_justify="left")
        for col in ("index", "docs", "health"):
            table.add_column(col)
        for row in result["indices"]:
            table.add_row(row["index"], f"{row['docs']:,}", row["health"])
        console.print(table)


COMMANDS = [es]
