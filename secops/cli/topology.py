"""`secops topology ...`: validate, show and query an asset topology. Formatting only."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    JSON_OPTION,
    PORT,
    SINCE,
    SINCE_OPTION_HELP,
    TOPOLOGY_OPTION,
    Path,
    output_option,
    settings,
)
from secops.errors import ContentErrors, SecopsError
from secops.topology import Topology, load_topology

EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 invalid topology."
#: the old spelling `secops topology validate PATH`; same as -t PATH.
PATH_ARGUMENT = click.argument("path", required=False, type=Path(exists=True))


def _topology_path(ctx: click.Context, flag: str | None, positional: str | None = None) -> str:
    """-t (or the positional PATH) > SECOPS_TOPOLOGY > secops.yaml 'topology'; else usage."""
    if flag and positional and flag != positional:
        raise click.UsageError("give the topology once: -t/--topology PATH")
    chosen = settings(ctx, topology=flag or positional).topology
    if not chosen:
        raise click.UsageError(
            "no topology: give -t/--topology PATH (or SECOPS_TOPOLOGY, or 'topology' in "
            "secops.yaml)"
        )
    return chosen


def _out() -> Console:
    return Console(file=sys.stdout, soft_wrap=True, highlight=False)


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(epilog=EXIT_HELP)
def topology() -> None:
    """Asset topology: zones, assets, firewall policy, change windows."""


@topology.command(epilog=EXIT_HELP)
@PATH_ARGUMENT
@TOPOLOGY_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def validate(ctx: click.Context, path: str | None, topology: str | None, as_json: bool) -> None:
    """Check a topology file or directory; list every error with file:line."""
    chosen = _topology_path(ctx, topology, path)
    try:
        topo = load_topology(chosen)
    except SecopsError as exc:
        report_invalid(exc, chosen, as_json)
        sys.exit(exc.exit_code)
    if as_json:
        _json({"ok": True, "path": chosen, "summary": topo.summary(), "errors": []})
        return
    click.echo(f"ok: {topo.summary()}")


def report_invalid(exc: SecopsError, where: str, as_json: bool) -> None:
    """Every error of a failed load, one per line (or as JSON on stdout)."""
    errors = exc.errors if isinstance(exc, ContentErrors) else [exc]
    if as_json:
        rows = [
            {
                "file": e.location.file,
                "line": e.location.line,
                "column": e.location.column,
                "message": e.message,
            }
            for e in errors
        ]
        _json({"ok": False, "path": where, "errors": rows})
        return
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"invalid: {len(errors)} error(s) in {where}", err=True)


@topology.command(epilog=EXIT_HELP)
@PATH_ARGUMENT
@TOPOLOGY_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def show(ctx: click.Context, path: str | None, topology: str | None, as_json: bool) -> None:
    """Show zones, assets, policies and change windows."""
    topo = load_topology(_topology_path(ctx, topology, path))
    if as_json:
        _json(topo.to_dict())
        return
    console = _out()
    for table in (_zones(topo), _assets(topo), _policies(topo), _windows(topo)):
        console.print(table)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def _zones(topo: Topology) -> Table:
    table = _table("zones", "name", "cidrs", "intra-zone", "assets")
    members: dict[str | None, int] = {}
    for a in topo.assets:
        zone = topo.zone_of_asset(a.name)
        members[zone] = members.get(zone, 0) + 1
    for z in topo.zones:
        table.add_row(z.name, ", ".join(z.cidrs), z.intra_zone, str(members.get(z.name, 0)))
    return table


def _assets(topo: Topology) -> Table:
    table = _table("assets", "name", "zone", "ips", "role", "criticality", "services", "tags")
    for a in topo.assets:
        services = "?" if a.services is None else ", ".join(map(str, a.services)) or "-"
        table.add_row(
            a.name,
            topo.zone_of_asset(a.name) or "-",
            ", ".join(a.ips),
            a.role or "-",
            a.criticality,
            services,
            ", ".join(sorted(a.tags)),
        )
    return table


def _policies(topo: Topology) -> Table:
    table = _table("policies (anything else denied)", "from", "to", "allow")
    for p in topo.policies:
        table.add_row(p.from_zone, p.to_zone, ", ".join(map(str, p.allow)))
    return table


def _windows(topo: Topology) -> Table:
    table = _table("change windows", "ticket", "assets", "start", "end")
    for w in topo.change_windows:
        table.add_row(w.ticket, ", ".join(w.assets), w.start.isoformat(), w.end.isoformat())
    return table


@topology.command(epilog=EXIT_HELP)
@click.argument("src")
@click.argument("dst")
@TOPOLOGY_OPTION
@click.option("--port", type=PORT, help="Destination port.")
@click.option("--transport", default="tcp", show_default=True, type=click.Choice(["tcp", "udp"]))
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def path(
    ctx: click.Context,
    src: str,
    dst: str,
    topology: str | None,
    port: int | None,
    transport: str,
    as_json: bool,
) -> None:
    """Can SRC reach DST (asset names, host names or IPs)? Direct policy and pivot path."""
    topo = load_topology(_topology_path(ctx, topology))
    report = topo.explain_path(src, dst, port, transport)
    if as_json:
        _json(report)
        return
    s, d = report["source"], report["destination"]
    click.echo(f"source:      {_endpoint(s)}")
    click.echo(f"destination: {_endpoint(d)}")
    click.echo(f"direct:      {_verdict(report['can_reach'])}")
    click.echo(f"exposes:     {_verdict(report['exposes'])}")
    pivot = report["pivot_path"]
    click.echo(f"pivot path:  {' -> '.join(pivot) if pivot else 'none'}")


def _endpoint(e: dict[str, Any]) -> str:
    return f"{e['ref']} (asset {e['asset'] or '-'}, ip {e['ip'] or '-'}, zone {e['zone'] or '-'})"


def _verdict(answer: dict[str, Any]) -> str:
    word = {True: "yes", False: "no", None: "unknown"}.get(answer["value"], str(answer["value"]))
    return f"{word}: {answer['reason']}"


@topology.command("blast-radius", epilog=EXIT_HELP)
@click.argument("asset")
@TOPOLOGY_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.pass_context
def blast_radius(ctx: click.Context, asset: str, topology: str | None, as_json: bool) -> None:
    """Assets an attacker holding ASSET could reach, most critical first."""
    topo = load_topology(_topology_path(ctx, topology))
    if topo.asset(asset) is None:
        raise click.BadParameter(f"{asset!r} is not a known asset", param_hint="ASSET")
    rows = topo.blast_radius(asset)
    if as_json:
        _json([{"asset": a, "criticality": c, "hops": h} for a, c, h in rows])
        return
    table = _table(f"blast radius of {asset}", "asset", "criticality", "hops")
    for a, c, h in rows:
        table.add_row(a, c, str(h))
    _out().print(table)


@topology.command("map", epilog=EXIT_HELP)
@TOPOLOGY_OPTION
@output_option(
    "Where to write the map: .svg, .png or .html (self-contained).",
    required=True,
    type=Path(dir_okay=False, writable=True),
)
@click.option(
    "--findings/--no-findings",
    "with_findings",
    default=False,
    help="Colour assets by their worst open finding and draw attack paths (local store).",
)
@click.option(
    "--since", type=SINCE, help=f"With --findings: findings that ended after {SINCE_OPTION_HELP}."
)
@click.option(
    "--max-per-zone",
    type=click.IntRange(1, 200),
    default=12,
    show_default=True,
    help="Assets drawn per zone; the rest collapse into '+N more'.",
)
@DATA_DIR_OPTION
@CONFIG_OPTION
@click.pass_context
def draw_map(
    ctx: click.Context,
    topology: str | None,
    output: str,
    with_findings: bool,
    since: str | None,
    max_per_zone: int,
    data_dir: str | None,
) -> None:
    """Draw zones, assets, allowed paths and (with --findings) the attacks on them."""
    from pathlib import Path as FsPath

    from secops.sink import LocalStore
    from secops.topology.map import render
    from secops.triage.describe import is_open, outside_period

    fmt = FsPath(output).suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "html"):
        raise click.BadParameter("write .svg, .png or .html", param_hint="--output")
    topo = load_topology(_topology_path(ctx, topology))
    docs: list[dict[str, Any]] = []
    note = None
    if with_findings:
        store = LocalStore(settings(ctx, data_dir=data_dir).data_dir)
        docs = store.query(since=since)
        note = outside_period(store.query(), since)
    FsPath(output).write_bytes(render(topo, docs, fmt, max_per_zone=max_per_zone))
    shown = sum(is_open(d) for d in docs)
    click.echo(f"wrote {output} ({topo.summary()}; {shown} open findings)", err=True)
    if note:
        click.echo(f"note: {note}", err=True)


COMMANDS = [topology]
