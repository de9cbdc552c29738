"""`secops correlate` (the main job) and `secops parse` (debug collectors)."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    DURATION,
    ES_URL_OPTION,
    EXCEPTIONS_OPTION,
    JSON_OPTION,
    RULES_OPTION,
    SINCE,
    SINCE_OPTION_HELP,
    TOPOLOGY_OPTION,
    TZ_OPTION,
    YEAR_OPTION,
    Aliased,
    Path,
    echo_json,
    err,
    out,
    output_option,
    progress,
    settings,
    severity,
)
from secops.cli.es import es_events, es_settings
from secops.config import Config
from secops.errors import ConfigError
from secops.normalise import ParseReport, iter_events
from secops.pipeline import RunResult, run
from secops.schema import nest
from secops.sink import ElasticsearchSink, JsonlSink, LocalStore
from secops.triage.describe import entity

EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 invalid configuration or content."

INPUT_OPTION = click.option(
    "--input",
    "-i",
    "inputs",
    multiple=True,
    help="File, directory (recursive), .gz file or '-' for stdin; repeatable.",
)
DEAD_OPTION = click.option(
    "--dead-letter",
    type=Path(dir_okay=False),
    help="Append unparsable lines here (JSON lines: file, line, reason, raw; env "
    "SECOPS_DEAD_LETTER, secops.yaml 'dead_letter').",
)


QUERY_OPTION = click.option(
    "--query",
    "--es-query",
    "query",
    cls=Aliased,
    hidden_names=("--es-query",),
    help="With --es-source: KQL-like text ('a: x and b: y') or Query DSL JSON.",
)


def es_sink_of(es: Any, cfg: Config) -> ElasticsearchSink:
    """The Elasticsearch sink; findings it cannot index go to `es.dead_letter`, else to the
    data directory's es-dead-letter.jsonl (never the current directory)."""
    dead = es.dead_letter or LocalStore(cfg.data_dir).data_dir / "es-dead-letter.jsonl"
    return ElasticsearchSink(es, dead_letter=dead)


def _inputs(inputs: tuple[str, ...], cfg_inputs: list[str]) -> list[str]:
    chosen = list(inputs) or cfg_inputs
    if not chosen:
        raise click.UsageError("give at least one --input (or 'inputs' in secops.yaml)")
    return chosen


@click.command(epilog=EXIT_HELP)
@INPUT_OPTION
@TOPOLOGY_OPTION
@RULES_OPTION
@EXCEPTIONS_OPTION
@output_option("Also write the finding documents here as JSON lines ('-' for stdout).")
@YEAR_OPTION
@TZ_OPTION
@DEAD_OPTION
@DATA_DIR_OPTION
@click.option(
    "--store/--no-store",
    default=True,
    show_default=True,
    help="Keep the findings in the local store.",
)
@ES_URL_OPTION
@click.option(
    "--es-sink/--no-es-sink",
    default=True,
    help="With a cluster configured, also index the findings there (default: on).",
)
@click.option(
    "--es-source",
    metavar="PATTERN",
    help="Also read ECS events from these Elasticsearch indices (e.g. 'logs-*').",
)
@click.option(
    "--since", type=SINCE, help=f"With --es-source: events newer than {SINCE_OPTION_HELP}."
)
@QUERY_OPTION
@click.option(
    "--max-skew",
    type=DURATION,
    envvar="SECOPS_MAX_SKEW",
    help="How far an event may come before a later-stamped one of the same input (skewed "
    "clocks, relays); later ones are counted as late events (default 5m; env SECOPS_MAX_SKEW).",
)
@CONFIG_OPTION
@JSON_OPTION
@click.pass_context
def correlate(
    ctx: click.Context,
    inputs: tuple[str, ...],
    topology: str | None,
    rules: tuple[str, ...],
    exceptions: str | None,
    output: str | None,
    year: int | None,
    tz: str | None,
    dead_letter: str | None,
    data_dir: str | None,
    store: bool,
    es_url: str | None,
    es_sink: bool,
    es_source: str | None,
    since: str | None,
    query: str | None,
    max_skew: str | None,
    as_json: bool,
) -> None:
    """Read logs, correlate them against the topology, and report findings.

    Findings go to the local store first, then (with --es-url, SECOPS_ES_URL or `es:` in
    secops.yaml) to Elasticsearch; if the cluster is unreachable the run fails with exit 1
    and the findings stay in the local store.

    --output writes the finding documents (nested ECS, what Elasticsearch indexes; '-o -' for
    stdout); --json prints the run's summary instead: counts, parse coverage and one brief line
    per finding, the same brief as 'secops findings list --json'.
    """
    cfg = settings(
        ctx,
        topology=topology,
        rules=rules,
        exceptions=exceptions,
        year=year,
        tz=tz,
        dead_letter=dead_letter,
        data_dir=data_dir,
    )
    if as_json and output == "-":
        raise click.UsageError("--json and '-o -' both write to stdout: choose one")
    sinks: list[Any] = [LocalStore(cfg.data_dir)] if store else []
    if output:
        sinks.append(JsonlSink(output))
    es = es_settings(ctx, es_url)
    if es.configured and es_sink:
        sinks.append(es_sink_of(es, cfg))
    es_report = ParseReport()
    sources = es_events(es, es_source, since, query, es_report, cfg.dead_letter)
    with progress("correlating") as advance:
        result = run(
            _inputs(inputs, cfg.inputs) if not es_source or inputs else [],
            rules_paths=cfg.rules or None,
            topology_path=cfg.topology,
            exceptions_path=str(cfg.exceptions_path),
            sinks=sinks,
            year=cfg.year,
            tz=cfg.tz,
            dead_letter=cfg.dead_letter,
            on_batch=advance,
            sources=sources,
            max_skew=max_skew,
        )
    result.report.merge(es_report)
    if as_json:
        echo_json(summary(result))
    elif output != "-":
        show_findings(result.findings)
    report_coverage(result.report)
    where = f"; stored in {sinks[0].path}" if store else ""
    err().print(
        f"{result.events:,} events, {len(result.raised)} findings raised, {len(result.cut)} cut{where}"
    )
    late = result.correlation.get("late_events", 0)
    if late:
        err().print(
            f"late events: {late:,} came more than the max skew after a later-stamped event of "
            f"their input (earliest {result.correlation.get('earliest_late')}); correlated with "
            "the rows still held, counted here (see --max-skew)"
        )


def summary(result: RunResult) -> dict[str, Any]:
    return {
        "events": result.events,
        "rules": result.rules,
        "raised": len(result.raised),
        "cut": len(result.cut),
        "parse": result.report.to_dict(),
        "correlation": result.correlation,
        "timings": result.timings,
        "written": result.written,
        "findings": [brief(f) for f in result.findings],
    }


def brief(f: dict[str, Any]) -> dict[str, Any]:
    fi = f["finding"]
    return {
        "id": fi["id"],
        "rule": f["rule"]["id"],
        "severity": fi["severity"],
        "risk": f["event"]["risk_score"],
        "techniques": f["threat"]["technique"]["id"],
        "start": f["event"]["start"],
        "end": f["event"]["end"],
        "source.ip": f.get("source", {}).get("ip"),
        "destination.ip": f.get("destination", {}).get("ip"),
        "host.name": f.get("host", {}).get("name"),
        "user.name": f.get("user", {}).get("name"),
        "events": fi["evidence"]["count"],
        "suppressed": fi["suppressed"],
        "reason": fi["suppression"].get("reason"),
        "status": fi.get("status"),
        "message": f.get("message"),
    }


def show_findings(findings: list[dict[str, Any]], *, title: str = "Findings") -> None:
    table = Table(title=title, show_lines=False)
    for col in (
        "id",
        "sev",
        "risk",
        "rule",
        "technique",
        "entity",
        "events",
        "start",
        "cut because",
    ):
        table.add_column(col, overflow="fold")
    for f in findings:
        b = brief(f)
        table.add_row(
            b["id"][:10],
            severity(b["severity"]),
            f"{b['risk']:.0f}",
            b["rule"],
            ",".join(b["techniques"]),
            entity(f),
            str(b["events"]),
            b["start"][:19],
            b["reason"] or "",
        )
    out().print(table)


def report_coverage(report: ParseReport) -> None:
    table = Table(title="Parse coverage", title_justify="left")
    for col in ("source", "parser", "lines"):
        table.add_column(col)
    for source, counts in sorted(report.coverage.items()):
        for parser, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            if n:
                table.add_row(source, parser, f"{n:,}")
    console = err()
    console.print(table)
    console.print(report.summary())
    for warning in report.warnings():
        console.print(f"[bold yellow]warning[/]: {warning}", markup=True)


@click.command(epilog=EXIT_HELP)
@INPUT_OPTION
@output_option(
    "Where to write the events (JSON lines, nested ECS).", default="-", show_default=True
)
@YEAR_OPTION
@TZ_OPTION
@DEAD_OPTION
@CONFIG_OPTION
@click.pass_context
def parse(
    ctx: click.Context,
    inputs: tuple[str, ...],
    output: str,
    year: int | None,
    tz: str | None,
    dead_letter: str | None,
) -> None:
    """Normalise logs to ECS events (JSON lines) without correlating; reports what did not parse."""
    cfg = settings(ctx, year=year, tz=tz, dead_letter=dead_letter)
    report = ParseReport()
    try:
        sink = click.open_file(output, "w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write events: {exc}", output) from None
    try:
        for batch in iter_events(
            _inputs(inputs, cfg.inputs),
            year=cfg.year,
            tz=cfg.tz,
            dead_letter=cfg.dead_letter,
            report=report,
        ):
            for record in batch.to_dict("records"):
                sink.write(json.dumps(nest(_iso(record)), default=str) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write events: {exc}", output) from None
    finally:
        if output != "-":
            sink.close()
        else:
            sink.flush()
    report_coverage(report)


def _iso(record: dict[Any, Any]) -> dict[Any, Any]:
    ts = record.get("@timestamp")
    if ts is not None and hasattr(ts, "isoformat"):
        record["@timestamp"] = ts.isoformat().replace("+00:00", "Z")
    return record


COMMANDS = [correlate, parse]
