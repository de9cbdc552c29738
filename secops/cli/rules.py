"""`secops rules list|validate|test|fields|import-sigma`."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    JSON_OPTION,
    RULES_OPTION,
    TOPOLOGY_OPTION,
    Path,
    echo_json,
    err,
    out,
    settings,
    severity,
)
from secops.correlate import load_rules
from secops.correlate.conditions import DERIVED_FIELDS, KNOWN_FIELDS
from secops.correlate.rule import Rule
from secops.errors import ContentError, SecopsError
from secops.examples import run_examples
from secops.schema import ENRICH_FIELDS, EVENT_FIELDS
from secops.topology import load_topology

EXIT_HELP = "Exit codes: 0 ok, 1 an example failed, 2 usage, 78 invalid rules."
#: the old spelling `secops rules validate PATH...`; same as -r PATH (repeatable).
PATHS = click.argument("paths", nargs=-1, type=Path(exists=True))


def _load(ctx: click.Context, paths: tuple[str, ...], rules: tuple[str, ...] = ()) -> list[Rule]:
    """PATHS and -r > SECOPS_RULES > secops.yaml 'rules' > the shipped library."""
    chosen: list[Any] = settings(ctx, rules=paths + rules).rules
    return load_rules(chosen or None)


@click.group(epilog=EXIT_HELP)
def rules() -> None:
    """The rule library: list, validate, test against its examples."""


@rules.command("list", epilog=EXIT_HELP)
@PATHS
@RULES_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def list_rules(
    ctx: click.Context, paths: tuple[str, ...], rules: tuple[str, ...], as_json: bool
) -> None:
    """List rules (default: the shipped library)."""
    loaded = _load(ctx, paths, rules)
    if as_json:
        echo_json([r.to_dict() for r in loaded])
        return
    table = Table(title=f"Rules ({len(loaded)})")
    for col in ("id", "type", "severity", "techniques", "tactic", "title"):
        table.add_column(col)
    for r in sorted(loaded, key=lambda r: r.id):
        table.add_row(
            r.id,
            r.type,
            severity(r.severity),
            ",".join(r.techniques),
            r.threat.tactic_name or "",
            r.title,
        )
    out().print(table)


@rules.command(epilog=EXIT_HELP)
@PATHS
@RULES_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def validate(
    ctx: click.Context, paths: tuple[str, ...], rules: tuple[str, ...], as_json: bool
) -> None:
    """Check rule files; every error is listed with file:line."""
    from secops.cli.topology import report_invalid

    where = ", ".join(paths + rules) or "the rule library"
    try:
        loaded = _load(ctx, paths, rules)
    except ContentError as exc:
        report_invalid(exc, where, as_json)
        raise SystemExit(exc.exit_code) from None
    if as_json:
        echo_json({"ok": True, "path": where, "rules": len(loaded), "errors": []})
        return
    click.echo(f"ok: {len(loaded)} rules")


@rules.command(epilog=EXIT_HELP)
@PATHS
@RULES_OPTION
@TOPOLOGY_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def test(
    ctx: click.Context,
    paths: tuple[str, ...],
    rules: tuple[str, ...],
    topology: str | None,
    as_json: bool,
) -> None:
    """Run every rule's positive and negative examples (against the configured topology,
    default: the shipped example topology)."""
    from secops.content import repo_path

    chosen = settings(ctx, topology=topology).topology
    topo = load_topology(chosen or repo_path("topology", "example"))
    results = [res for r in _load(ctx, paths, rules) for res in run_examples(r, topo)]
    failed = [r for r in results if not r.ok]
    if as_json:
        echo_json([r.to_dict() for r in results])
    else:
        table = Table(title=f"Rule examples: {len(results) - len(failed)}/{len(results)} passed")
        for col in ("", "rule", "example", "expected", "got", "reason"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(
                "[green]ok[/]" if r.ok else "[red]FAIL[/]",
                r.rule,
                r.name,
                r.expect,
                r.got,
                r.reason or "",
            )
        out().print(table)
    if failed:
        err().print(f"{len(failed)} example(s) failed")
        raise SystemExit(1)
    if not results:
        raise SecopsError("no examples found")


@rules.command(epilog=EXIT_HELP)
@JSON_OPTION
def fields(as_json: bool) -> None:
    """Fields rules may use: ECS event columns, topology enrichment, derived columns."""
    rows = [(f, "event", str(t)) for f, t in EVENT_FIELDS.items()]
    rows += [(f, "topology", str(t)) for f, t in ENRICH_FIELDS.items()]
    rows += [(f, "derived", v) for f, v in DERIVED_FIELDS.items()]
    rows += [(f, "event", "string") for f in sorted(KNOWN_FIELDS - {r[0] for r in rows})]
    if as_json:
        echo_json([{"field": f, "kind": k, "type": t} for f, k, t in rows])
        return
    table = Table(title="Fields")
    for col in ("field", "kind", "type"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    out().print(table)


@rules.command(epilog=EXIT_HELP)
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def health(ctx: click.Context, data_dir: str | None, as_json: bool) -> None:
    """Per-rule health from the analysts' verdicts, noisiest first.

    volume (raised), cut, share marked false positive, precision = resolved / (resolved +
    false positive), median time to acknowledge.
    """
    from secops.sink import LocalStore
    from secops.triage import rule_health

    docs = LocalStore(settings(ctx, data_dir=data_dir).data_dir).query(include_suppressed=True)
    rows = rule_health(docs)
    if as_json:
        echo_json([h.to_dict() for h in rows])
        return
    table = Table(title=f"Rule health ({len(docs)} findings), noisiest first")
    for col in (
        "rule",
        "raised",
        "cut",
        "open",
        "false pos.",
        "share FP",
        "precision",
        "median ack",
    ):
        table.add_column(col, justify="left" if col == "rule" else "right")
    for h in rows:
        table.add_row(
            h.rule,
            str(h.raised),
            str(h.cut),
            str(h.open + h.acknowledged),
            str(h.false_positive),
            _pct(h.share_false_positive),
            _pct(h.precision),
            _dur(h.median_time_to_ack),
        )
    out().print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h" if seconds < 86400 else f"{seconds / 86400:.1f}d"


@rules.command("import-sigma", epilog="Exit codes: 0 report written, 2 usage.")
@click.argument("paths", nargs=-1, required=True, type=Path(exists=True))
@click.option(
    "--overlay",
    "overlays",
    multiple=True,
    type=Path(exists=True, dir_okay=False),
    help="A Sigma overlay file to apply (repeatable; overlays under PATHS are found anyway).",
)
@click.option(
    "--switch-off",
    "switch_off",
    type=Path(dir_okay=False, writable=True),
    help="Also write an overlay that switches off every unsupported rule (with its reason): "
    "pass it with -r to run the rest.",
)
@JSON_OPTION
def import_sigma_cmd(
    paths: tuple[str, ...], overlays: tuple[str, ...], switch_off: str | None, as_json: bool
) -> None:
    """Report for every Sigma rule under PATHS: supported (runs as which detector) or not, why."""
    from secops.sigma.report import import_sigma, summary, switch_off_overlay

    loaded = import_sigma(paths, overlays)
    stats = summary(loaded.verdicts)
    if switch_off:
        with open(switch_off, "w", encoding="utf-8") as fh:
            fh.write(switch_off_overlay(loaded.verdicts))
    if as_json:
        echo_json({"summary": stats, "rules": [v.to_dict() for v in loaded.verdicts]})
        return
    table = Table(title=f"Sigma rules: {stats['supported']}/{stats['rules']} supported")
    for col in ("status", "id", "title", "runs as", "logsource", "reason"):
        table.add_column(col, overflow="fold")
    style = {"supported": "green", "unsupported": "yellow", "invalid": "red", "disabled": "dim"}
    for v in sorted(loaded.verdicts, key=lambda v: (v.status, v.file or "", v.title)):
        status = f"[{style.get(v.status, '')}]{v.status}[/]"
        table.add_row(status, v.id, v.title, v.runs_as or "", v.logsource or "", v.reason or "")
    out().print(table)
    for r in stats["top_reasons"]:
        err().print(f"{r['rules']:>5}  {r['reason']}")


COMMANDS = [rules]
