"""`secops report`: a day's or a week's findings as a self-contained HTML page or Markdown."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from secops.cli.common import DATA_DIR_OPTION, config, err
from secops.report import PERIODS, write_report
from secops.sink import LocalStore
from secops.topology import load_topology
from secops.triage import load_sla

EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 invalid configuration or topology."


@click.command(epilog=EXIT_HELP)
@click.option("--period", type=click.Choice(list(PERIODS)), default="day", show_default=True)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Report file (report.html, or report.md with --format md).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md"]),
    help="Default: from the --out suffix, else html.",
)
@click.option(
    "--topology",
    "-t",
    type=click.Path(exists=True),
    help="Topology for the map (default: config 'topology'); without one, no map.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="End of the period (default: now; UTC unless an offset is given).",
)
@DATA_DIR_OPTION
@click.pass_context
def report(
    ctx: click.Context,
    period: str,
    out_path: str,
    fmt: str | None,
    topology: str | None,
    until: datetime | None,
    data_dir: str | None,
) -> None:
    """Counts by severity and rule, raised vs cut with reasons, top targets, open and overdue
    findings, rule health, response times, findings over time and the topology map."""
    from datetime import UTC

    cfg = config(ctx)
    fmt = fmt or ("md" if Path(out_path).suffix.lower() == ".md" else "html")
    topo_path = topology or cfg.topology
    docs = LocalStore(data_dir or cfg.data_dir).query(include_suppressed=True)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    data = write_report(
        docs,
        out_path,
        period=period,
        fmt=fmt,
        topology=load_topology(topo_path) if topo_path else None,
        sla=load_sla(cfg.sla),
        now=until,
    )
    err().print(
        f"wrote {out_path}: {len(data.raised)} raised, {len(data.cut)} cut, "
        f"{len(data.open)} open, {len(data.overdue)} overdue"
    )


COMMANDS = [report]
