"""`secops kibana export|import`: the bundled data view and dashboard for the findings index."""

from __future__ import annotations

import os

import click

from secops.cli.common import JSON_OPTION, echo_json, err
from secops.kibana import KibanaTarget, export_ndjson, import_objects

EXIT_HELP = (
    "Exit codes: 0 ok, 1 Kibana unreachable or the import failed, 78 unreadable objects file. "
    "Credentials come from SECOPS_KIBANA_API_KEY or SECOPS_KIBANA_USERNAME / "
    "SECOPS_KIBANA_PASSWORD, never from the command line."
)
PATTERN_OPTION = click.option(
    "--index-pattern",
    help="Data view title instead of 'secops-findings-*' (when es.index is not the default).",
)
FILE_OPTION = click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    help="Saved objects NDJSON to use instead of the bundled one.",
)


@click.group(epilog=EXIT_HELP)
def kibana() -> None:
    """Kibana saved objects: the findings data view and the overview dashboard."""


@kibana.command(epilog=EXIT_HELP)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="Where to write the NDJSON ('-' for stdout).",
)
@PATTERN_OPTION
@FILE_OPTION
def export(out: str, index_pattern: str | None, path: str | None) -> None:
    """Write the saved objects (data view, panels, dashboard) as NDJSON for Kibana's import."""
    text = export_ndjson(index_pattern, path)
    with click.open_file(out, "w", encoding="utf-8") as stream:
        stream.write(text)
    if out != "-":
        err().print(f"{text.count(chr(10))} saved objects written to {out}")


@kibana.command("import", epilog=EXIT_HELP)
@click.option("--url", required=True, envvar="SECOPS_KIBANA_URL", help="Kibana base URL.")
@click.option("--space", help="Kibana space id (default: the default space).")
@click.option("--verify-certs/--no-verify-certs", default=True, help="Check TLS certificates.")
@PATTERN_OPTION
@FILE_OPTION
@JSON_OPTION
def import_(
    url: str,
    space: str | None,
    verify_certs: bool,
    index_pattern: str | None,
    path: str | None,
    as_json: bool,
) -> None:
    """Import the saved objects through the saved objects API, overwriting older copies."""
    target = KibanaTarget(
        url,
        space=space,
        api_key=os.environ.get("SECOPS_KIBANA_API_KEY"),
        username=os.environ.get("SECOPS_KIBANA_USERNAME"),
        password=os.environ.get("SECOPS_KIBANA_PASSWORD"),
        verify_certs=verify_certs,
    )
    result = import_objects(target, export_ndjson(index_pattern, path))
    if as_json:
        echo_json(result)
        return
    err().print(f"imported {result.get('successCount', 0)} saved objects (overwrite)")


COMMANDS = [kibana]
