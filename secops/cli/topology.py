"""`secops topology ...`: validate, show and query an asset topology. Formatting only."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from secops.cli.common import DATA_DIR_OPTION
from secops.errors import ContentErrors, SecopsError
from secops.topology import Topology, load_topology

TOPOLOGY_OPTION = click.option(
    "--topology",
    "topology_path",
    required=True,
    envvar="SECOPS_TOPOLOGY",
    type=click.Path(exists=True),
    help="Topology YAML file or directory (env SECOPS_TOPOLOGY).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 invalid topology."


def _out() -> Console:
    return Console(file=sys.stdout, soft_wrap=True, highlight=False)


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group(epilog=EXIT_HELP)
def topology() -> None:
    """Asset topology: zones, assets, firewall policy, change windows."""


@topology.command(epilog=EXIT_HELP)
@click.argument("path", type=click.Path())
def validate(path: str) -> None:
    """Check a topology file or directory; list every error with file:line."""
    try:
        topo = load_topology(path)
    except ContentErrors as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"invalid: {len(exc.errors)} error(s) in {path}", err=True)
        sys.exit(exc.exit_code)
    except SecopsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    click.echo(f"ok: {topo.summary()}")


@topology.command(epilog=EXIT_HELP)
@click.argument("path", type=click.Path())
@JSON_OPTION
def show(path: str, as_json: bool) -> None:
    """Show zones, assets, policies and change windows."""
    topo = load_topology(path)
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
@click.option("--port", type=click.IntRange(0, 65535), help="Destination port.")
@click.option("--transport", default="tcp", show_default=True, type=click.Choice(["tcp", "udp"]))
@JSON_OPTION
def path(
    src: str, dst: str, topology_path: str, port: int | None, transport: str, as_json: bool
) -> None:
    """Can SRC reach DST (asset names, host names or IPs)? Direct policy and pivot path."""
    report = load_topology(topology_path).explain_path(src, dst, port, transport)
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
def blast_radius(asset: str, topology_path: str, as_json: bool) -> None:
    """Assets an attacker holding ASSET could reach, most critical first."""
    topo = load_topology(topology_path)
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
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the map: .svg, .png or .html (self-contained).",
)
@click.option(
    "--findings/--no-findings",
    "with_findings",
    default=False,
    help="Colour assets by their worst open finding and draw attack paths (local store).",
)
@click.option("--since", help="With --findings: findings that ended after this (24h, 7d, ISO).")
@click.option(
    "--max-per-zone",
    type=click.IntRange(1, 200),
    default=12,
    show_default=True,
    help="Assets drawn per zone; the rest collapse into '+N more'.",
)
@DATA_DIR_OPTION
@click.pass_context
def draw_map(
    ctx: click.Context,
    topology_path: str,
    out_path: str,
    with_findings: bool,
    since: str | None,
    max_per_zone: int,
    data_dir: str | None,
) -> None:
    """Draw zones, assets, allowed paths and (with --findings) the attacks on them."""
    from pathlib import Path

    from secops.cli.common import config
    from secops.cli.findings import _since
    from secops.sink import LocalStore
    from secops.topology.map import render
    from secops.triage.describe import is_open, outside_period

    fmt = Path(out_path).suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "html"):
        raise click.BadParameter("write .svg, .png or .html", param_hint="--out")
    topo = load_topology(topology_path)
    docs: list[dict[str, Any]] = []
    note = None
    if with_findings:
        store = LocalStore(data_dir or config(ctx).data_dir)
        docs = store.query(since=_since(since))
        note = outside_period(store.query(), _since(since))
    Path(out_path).write_bytes(render(topo, docs, fmt, max_per_zone=max_per_zone))
    shown = sum(is_open(d) for d in docs)
    click.echo(f"wrote {out_path} ({topo.summary()}; {shown} open findings)", err=True)
    if note:
        click.echo(f"note: {note}", err=True)


COMMANDS = [topology]
