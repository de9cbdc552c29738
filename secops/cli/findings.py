"""`secops findings list|show`: read findings back from the local store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.panel import Panel
from rich.table import Table

from secops.cli.common import JSON_OPTION, config, echo_json, out, severity
from secops.cli.correlate import brief, show_findings
from secops.correlate.rule import SEVERITIES
from secops.errors import SecopsError
from secops.sink import LocalStore

EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure (e.g. unknown finding id), 2 usage."
DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="SECOPS_DATA_DIR",
    help="Local store directory (env SECOPS_DATA_DIR).",
)
_SINCE = re.compile(r"^(\d+)([mhd])$")


@click.group(epilog=EXIT_HELP)
def findings() -> None:
    """Findings in the local store: list and explain them."""


def _since(value: str | None) -> str | None:
    if not value:
        return None
    m = _SINCE.match(value)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return (
            (datetime.now(UTC) - timedelta(**{unit: int(m.group(1))}))
            .isoformat()
            .replace("+00:00", "Z")
        )
    return value


@findings.command("list", epilog=EXIT_HELP)
@click.option("--all", "include_cut", is_flag=True, help="Include cut (suppressed) findings.")
@click.option("--rule", help="Only this rule id.")
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=click.Choice(SEVERITIES),
    help="Only these severities; repeatable.",
)
@click.option(
    "--since", help="Only findings that ended after this (ISO time, or 30m / 24h / 7d ago)."
)
@click.option("--limit", type=int, default=200, show_default=True)
@DATA_DIR
@JSON_OPTION
@click.pass_context
def list_findings(
    ctx: click.Context,
    include_cut: bool,
    rule: str | None,
    severities: tuple[str, ...],
    since: str | None,
    limit: int,
    data_dir: str | None,
    as_json: bool,
) -> None:
    """List findings, highest risk first."""
    store = LocalStore(data_dir or config(ctx).data_dir)
    docs = store.query(
        include_suppressed=include_cut,
        rule=rule,
        severity=list(severities) or None,
        since=_since(since),
        limit=limit,
    )
    if as_json:
        echo_json([brief(d) for d in docs])
        return
    show_findings(docs, title=f"Findings ({len(docs)}{', cut included' if include_cut else ''})")


@findings.command(epilog=EXIT_HELP)
@click.argument("finding_id")
@DATA_DIR
@JSON_OPTION
@click.pass_context
def show(ctx: click.Context, finding_id: str, data_dir: str | None, as_json: bool) -> None:
    """Explain one finding: evidence, topology answers, risk factors, runbook (id or unique prefix)."""
    doc = LocalStore(data_dir or config(ctx).data_dir).get(finding_id)
    if doc is None:
        raise SecopsError(
            f"no finding with id or unique prefix '{finding_id}' (see 'secops findings list --all')"
        )
    if as_json:
        echo_json(doc)
        return
    explain(doc)


def explain(doc: dict[str, Any]) -> None:
    console = out()
    fi = doc["finding"]
    head = (
        f"{severity(fi['severity'])}  risk {doc['event']['risk_score']}  {doc['rule']['id']}  "
        f"{', '.join(doc['threat']['technique']['id'])} ({doc['threat']['tactic']['name']})\n"
        f"{doc['message']}\n{doc['event']['start']} .. {doc['event']['end']}  status {fi.get('status', 'open')}"
    )
    if fi["suppressed"]:
        head += f"\n[bold]CUT[/]: {fi['suppression']['reason']}"
    console.print(Panel(head, title=fi["id"]))
    risk = fi["risk"]
    console.print(
        f"[bold]Risk[/] = {risk['formula']} = 100 x {risk['severity_weight']} x "
        f"(0.5 + 0.5 x {risk['criticality_weight']}) x {risk['confidence']} "
        f"(severity {risk['severity']}, target criticality {risk['criticality']})"
    )
    for e in fi.get("escalations", []):
        console.print(f"[bold]Escalated[/] {e}")
    _topology(fi["topology"])
    ev = fi["evidence"]
    console.print(
        f"[bold]Evidence[/]: {ev['count']} events {ev.get('steps') or ''}; ids: {', '.join(ev['event_ids'][:10])}"
        + (" ..." if len(ev["event_ids"]) > 10 else "")
    )
    rel = doc.get("related", {})
    console.print(
        f"[bold]Related[/]: ip {rel.get('ip', [])[:10]} user {rel.get('user', [])[:10]} hosts {rel.get('hosts', [])[:10]}"
    )
    console.print(Panel(fi.get("runbook", ""), title="Runbook"))


def _topology(topo: dict[str, Any]) -> None:
    table = Table(title="Topology answers", title_justify="left")
    for col in ("asked", "answer", "reason"):
        table.add_column(col, overflow="fold")
    for c in topo.get("clauses", []):
        for a in c["answers"] or [{"value": None, "reason": "no entity to ask about"}]:
            table.add_row(f"{c['kind']} {c['question']}={c['arg']}", str(a["value"]), a["reason"])
    for s in topo.get("sources", []):
        table.add_row(
            "source",
            s.get("asset") or "-",
            f"{s.get('ip')} zone {s.get('zone')} ({s.get('locality')}) tags {s.get('tags')}",
        )
    for t in topo.get("targets", []):
        table.add_row(
            "target",
            t.get("asset") or "-",
            f"{t.get('ip')}:{t.get('port')} zone {t.get('zone')} criticality {t.get('criticality')}",
        )
        for key in ("exposes", "change_window", "path_to_crown_jewel"):
            if key in t:
                table.add_row(f"  {key}", str(t[key]["value"]), t[key]["reason"])
        for r in t.get("reachable", []):
            table.add_row("  reachable", str(r["value"]), r["reason"])
    out().print(table)


COMMANDS = [findings]
