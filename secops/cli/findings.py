"""`secops findings list|show`: read findings back from the local store."""

from __future__ import annotations

import getpass
import os
from functools import partial
from typing import Any

import click
from rich.panel import Panel
from rich.table import Table

from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    ES_URL_OPTION,
    EXCEPTIONS_OPTION,
    JSON_OPTION,
    SINCE,
    SINCE_OPTION_HELP,
    TZ_OPTION,
    YEAR_OPTION,
    Checked,
    config,
    echo_json,
    err,
    out,
    settings,
    severity,
)
from secops.cli.correlate import brief, show_findings
from secops.cli.es import es_settings
from secops.config import valid_duration
from secops.correlate.rule import SEVERITIES
from secops.elastic import connect
from secops.errors import SinkError
from secops.sink import LocalStore
from secops.sink.elasticsearch import query_findings
from secops.triage import accept as accept_exception
from secops.triage import act, find, is_overdue, load_sla, propose, push_update
from secops.triage.describe import endpoint, history_line
from secops.triage.propose import Proposal, entities_of_doc
from secops.triage.remote import partial_doc, remote_sink

EXIT_HELP = (
    "Exit codes: 0 ok, 1 runtime failure (e.g. unknown finding id), 2 usage, "
    "78 invalid configuration."
)


@click.group(epilog=EXIT_HELP)
def findings() -> None:
    """Findings in the local store: list, explain and triage them (ack, assign, resolve,
    false-positive, duplicate, reopen)."""


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
@click.option("--since", type=SINCE, help=f"Only findings that ended after {SINCE_OPTION_HELP}.")
@click.option(
    "--overdue", is_flag=True, help="Only open/acknowledged findings past their response time."
)
@click.option("--limit", type=int, default=200, show_default=True)
@click.option(
    "--source",
    type=click.Choice(["local", "es"]),
    default="local",
    show_default=True,
    help="Read the local store or the Elasticsearch findings index.",
)
@ES_URL_OPTION
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def list_findings(
    ctx: click.Context,
    include_cut: bool,
    rule: str | None,
    severities: tuple[str, ...],
    since: str | None,
    overdue: bool,
    limit: int,
    source: str,
    es_url: str | None,
    data_dir: str | None,
    as_json: bool,
) -> None:
    """List findings, highest risk first."""
    if source == "es":
        settings = es_settings(ctx, es_url)
        read: Any = partial(query_findings, connect(settings, SinkError), settings.index)
    else:
        read = LocalStore(data_dir or config(ctx).data_dir).query
    docs = read(
        include_suppressed=include_cut,
        rule=rule,
        severity=list(severities) or None,
        since=since,
        limit=None if overdue else limit,
    )
    if overdue:
        sla = load_sla(config(ctx).sla)
        docs = [d for d in docs if is_overdue(d, sla)][:limit]
    if as_json:
        echo_json([brief(d) for d in docs])
        return
    show_findings(docs, title=f"Findings ({len(docs)}{', cut included' if include_cut else ''})")


@findings.command(epilog=EXIT_HELP)
@click.argument("finding_id")
@click.option(
    "--events",
    "with_events",
    is_flag=True,
    help="Also show the evidence events, re-read from --input (or config inputs): by event.id, "
    "and those a long episode omits by the finding's key and time range.",
)
@click.option("--input", "-i", "inputs", multiple=True, help="Logs to find the events in.")
@YEAR_OPTION
@TZ_OPTION
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def show(
    ctx: click.Context,
    finding_id: str,
    with_events: bool,
    inputs: tuple[str, ...],
    year: int | None,
    tz: str | None,
    data_dir: str | None,
    as_json: bool,
) -> None:
    """Explain one finding: evidence, topology answers, risk factors, runbook, triage (id or
    unique prefix)."""
    cfg = settings(ctx, year=year, tz=tz, data_dir=data_dir)
    doc = find(LocalStore(cfg.data_dir), finding_id)
    if with_events:
        from secops.correlate import load_rules
        from secops.triage.evidence import evidence_events

        sources = list(inputs) or cfg.inputs
        if not sources:
            raise click.UsageError("--events needs --input (or 'inputs' in secops.yaml)")
        rule = next((r for r in load_rules(cfg.rules or None) if r.id == doc["rule"]["id"]), None)
        found = evidence_events(doc, sources, year=cfg.year, tz=cfg.tz, rule=rule)
        doc["finding"]["evidence"]["events"] = found
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
    if "events" in ev:
        _events(ev["events"], ev["count"])
    rel = doc.get("related", {})
    console.print(
        f"[bold]Related[/]: ip {rel.get('ip', [])[:10]} user {rel.get('user', [])[:10]} hosts {rel.get('hosts', [])[:10]}"
    )
    console.print(Panel(fi.get("runbook", ""), title="Runbook"))
    _triage(fi)


def _events(events: list[dict[str, Any]], count: int) -> None:
    table = Table(title=f"Evidence events ({len(events)} of {count} found)", title_justify="left")
    for col in ("time", "host", "action", "outcome", "source", "destination", "user", "message"):
        table.add_column(col, overflow="fold")
    for e in events[:50]:
        dst = e.get("destination.ip") or ""
        if dst and e.get("destination.port"):
            dst += f":{e['destination.port']}"
        table.add_row(
            (e.get("@timestamp") or "")[:19],
            e.get("host.name") or "",
            e.get("event.action") or "",
            e.get("event.outcome") or "",
            e.get("source.ip") or "",
            dst,
            e.get("user.name") or "",
            (e.get("message") or e.get("rule.name") or "")[:160],
        )
    out().print(table)


def _triage(fi: dict[str, Any]) -> None:
    tri = fi.get("triage") or {}
    lines = [f"status {fi.get('status', 'open')}, first seen {fi.get('first_seen', '-')}"]
    for key in ("assignee", "duplicate_of", "acknowledged_at", "closed_at"):
        if tri.get(key):
            lines.append(f"{key.replace('_', ' ')}: {tri[key]}")
    for h in tri.get("history", []):
        lines.append(history_line(h))
    out().print(Panel("\n".join(lines), title="Triage"))


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
            f"{endpoint(t.get('ip'), t.get('port'))} zone {t.get('zone')} "
            f"criticality {t.get('criticality')}",
        )
        for key in ("exposes", "change_window", "path_to_crown_jewel"):
            if key in t:
                table.add_row(f"  {key}", str(t[key]["value"]), t[key]["reason"])
        for r in t.get("reachable", []):
            table.add_row("  reachable", str(r["value"]), r["reason"])
    out().print(table)


EXPIRES = Checked("duration", valid_duration, "DURATION")
ANALYST = click.option(
    "--analyst",
    default=lambda: os.environ.get("SECOPS_ANALYST") or getpass.getuser(),
    show_default="$SECOPS_ANALYST or your login",
    help="Who is acting.",
)
NOTE = click.option("--note", help="Why; kept in the finding's triage history.")


def _act(
    ctx: click.Context, data_dir: str | None, finding_id: str, action: str, **kw: Any
) -> dict[str, Any]:
    cfg = config(ctx)
    doc = act(LocalStore(data_dir or cfg.data_dir), finding_id, action, **kw)
    if push_update(remote_sink(cfg.es), doc["finding"]["id"], partial_doc(doc)):
        err().print("updated in Elasticsearch too")
    return doc


def _done(doc: dict[str, Any], as_json: bool) -> None:
    fi = doc["finding"]
    if as_json:
        echo_json({"id": fi["id"], "status": fi["status"], "triage": fi.get("triage")})
    else:
        click.echo(f"{fi['id'][:10]} {doc['rule']['id']}: {fi['status']}")


def _simple(action: str, doc_help: str) -> click.Command:
    @click.command(action, help=doc_help, epilog=EXIT_HELP)
    @click.argument("finding_id")
    @NOTE
    @ANALYST
    @DATA_DIR_OPTION
    @JSON_OPTION
    @CONFIG_OPTION
    @click.pass_context
    def command(
        ctx: click.Context,
        finding_id: str,
        note: str | None,
        analyst: str,
        data_dir: str | None,
        as_json: bool,
    ) -> None:
        _done(_act(ctx, data_dir, finding_id, action, analyst=analyst, note=note), as_json)

    return command


findings.add_command(_simple("ack", "Acknowledge a finding (starts work; stops the ack clock)."))
findings.add_command(_simple("resolve", "Close a finding as a real one that was dealt with."))
findings.add_command(_simple("reopen", "Reopen a closed finding."))


@findings.command(epilog=EXIT_HELP)
@click.argument("finding_id")
@click.argument("assignee")
@NOTE
@ANALYST
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def assign(ctx, finding_id, assignee, note, analyst, data_dir, as_json) -> None:  # type: ignore[no-untyped-def]
    """Give a finding to ASSIGNEE (keeps its status)."""
    kw = {"analyst": analyst, "note": note, "assignee": assignee}
    _done(_act(ctx, data_dir, finding_id, "assign", **kw), as_json)


@findings.command(epilog=EXIT_HELP)
@click.argument("finding_id")
@click.option("--of", "original", required=True, help="The finding this one duplicates.")
@NOTE
@ANALYST
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def duplicate(ctx, finding_id, original, note, analyst, data_dir, as_json) -> None:  # type: ignore[no-untyped-def]
    """Close a finding as a duplicate of another."""
    kw = {"analyst": analyst, "note": note, "duplicate_of": original}
    _done(_act(ctx, data_dir, finding_id, "duplicate", **kw), as_json)


@findings.command("false-positive", epilog=EXIT_HELP)
@click.argument("finding_id")
@NOTE
@click.option("--accept", is_flag=True, help="Write the proposed exception (the judge applies it).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="KEY=VALUE",
    help="Edit the proposal: scope keys (source.ip, source.asset, user.name, target.asset, "
    "source.subnet, source.tag, target.tag); repeatable, all must hold.",
)
@click.option(
    "--expires",
    type=EXPIRES,
    default="90d",
    show_default=True,
    help="Expiry, from now (e.g. 30d).",
)
@EXCEPTIONS_OPTION
@ANALYST
@DATA_DIR_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def false_positive(  # type: ignore[no-untyped-def]
    ctx, finding_id, note, accept, scopes, expires, exceptions, analyst, data_dir, as_json
) -> None:
    """Close a finding as false positive and propose the narrowest exception for its rule.

    Without --accept the proposal is only shown (refusing it is doing nothing); with --accept it
    is written to the exceptions folder as <id>.yaml (your data, never the package: --exceptions,
    SECOPS_EXCEPTIONS, 'exceptions' in secops.yaml, else <data dir>/exceptions), and the next run
    cuts matching findings with reason exception:<id>. Edit with --scope, or edit the YAML file
    (review it like a rule).
    """
    cfg = settings(ctx, exceptions=exceptions, data_dir=data_dir)
    store = LocalStore(cfg.data_dir)
    doc = store.get(finding_id)
    if doc is not None and doc["finding"].get("status") == "false_positive":
        pass  # already marked: only the proposal (e.g. accepting it now)
    else:
        doc = _act(ctx, data_dir, finding_id, "false-positive", analyst=analyst, note=note)
    proposal = propose(doc, analyst=analyst, reason=note, expires_in=expires)
    if proposal is not None and scopes:
        proposal = proposal.with_scope(_scope(scopes), entities_of_doc(doc))
    written = None
    if proposal is not None and accept:
        written = accept_exception(proposal, cfg.exceptions_path)
    _proposal_out(doc, proposal, written, cfg.exceptions_path, as_json)


def _scope(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise click.BadParameter(f"{item!r}: write KEY=VALUE", param_hint="--scope")
        out[key.strip()] = value.strip()
    return out


def _proposal_out(
    doc: dict, proposal: Proposal | None, written: Any, folder: Any, as_json: bool
) -> None:
    import yaml

    fi = doc["finding"]
    if as_json:
        echo_json(
            {
                "id": fi["id"],
                "status": fi["status"],
                "proposal": proposal.exception.to_dict() if proposal else None,
                "alternatives": [f"{k}={v}" for k, v in proposal.alternatives] if proposal else [],
                "written": str(written) if written else None,
                "exceptions": str(folder),
            }
        )
        return
    click.echo(f"{fi['id'][:10]} {doc['rule']['id']}: {fi['status']}")
    if proposal is None:
        click.echo("no exception to propose: the finding names no source, target or user")
        return
    click.echo("proposed exception:")
    click.echo(yaml.safe_dump(proposal.exception.to_dict(), sort_keys=False).rstrip())
    if proposal.alternatives:
        alts = ", ".join(f"{k}={v}" for k, v in proposal.alternatives)
        click.echo(f"wider alternatives (--scope KEY=VALUE): {alts}")
    if written:
        click.echo(
            f"accepted: wrote {written}; the next run cuts it as exception:{proposal.exception.id}"
        )
    else:
        click.echo(
            f"accept with: secops findings false-positive {fi['id'][:10]} --accept "
            f"(writes to {folder})"
        )


COMMANDS = [findings]
