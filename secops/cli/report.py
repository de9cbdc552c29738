"""`secops report`: a day's or a week's findings as a self-contained HTML page or Markdown."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path as FsPath

import click

from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    TOPOLOGY_OPTION,
    Path,
    err,
    output_option,
    settings,
)
from secops.report import PERIODS, write_report
from secops.sink import LocalStore
from secops.topology import load_topology
from secops.triage import load_sla

EXIT_HELP = "Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 invalid configuration or topology."


@click.command(epilog=EXIT_HELP)
@click.option("--period", type=click.Choice(list(PERIODS)), default="day", show_default=True)
@output_option(
    "Report file (report.html, or report.md with --format md).",
    required=True,
    type=Path(dir_okay=False, writable=True),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md"]),
    help="Default: from the --output suffix, else html.",
)
@TOPOLOGY_OPTION
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="End of the period (default: now; UTC unless an offset is given).",
)
@DATA_DIR_OPTION
@CONFIG_OPTION
@click.pass_context
def report(
    ctx: click.Context,
    period: str,
    output: str,
    fmt: str | None,
    topology: str | None,
    until: datetime | None,
    data_dir: str | None,
) -> None:
    """Counts by severity and rule, raised vs cut with reasons, top targets, open and overdue
    findings, rule health, response times, findings over time and the topology map (when a
    topology is given or configured)."""
    from datetime import UTC

    cfg = settings(ctx, topology=topology, data_dir=data_dir)
    fmt = fmt or ("md" if FsPath(output).suffix.lower() == ".md" else "html")
    topo_path = cfg.topology
    docs = LocalStore(cfg.data_dir).query(include_suppressed=True)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    data = write_report(
        docs,
        output,
        period=period,
        fmt=fmt,
        topology=load_topology(topo_path) if topo_path else None,
        sla=load_sla(cfg.sla),
        now=until,
    )
    err().print(
        f"wrote {output}: {len(data.raised)} raised, {len(data.cut)} cut, "
        f"{len(data.open)} open, {len(data.overdue)} overdue"
    )


COMMANDS = [report]
