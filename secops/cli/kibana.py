"""`secops kibana export|import`: the bundled data view and dashboard for the findings index."""

from __future__ import annotations

import os

import click

from secops.cli.common import JSON_OPTION, URL, Path, echo_json, err, output_option
from secops.kibana import KibanaTarget, export_ndjson, import_objects

EXIT_HELP = (
    "Exit codes: 0 ok, 1 Kibana unreachable or the import failed, 2 usage, "
    "78 unreadable objects file. "
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
    type=Path(exists=True, dir_okay=False),
    help="Saved objects NDJSON to use instead of the bundled one.",
)


@click.group(epilog=EXIT_HELP)
def kibana() -> None:
    """Kibana saved objects: the findings data view and the overview dashboard."""


@kibana.command(epilog=EXIT_HELP)
@output_option("Where to write the NDJSON ('-' for stdout).", default="-", show_default=True)
@PATTERN_OPTION
@FILE_OPTION
def export(output: str, index_pattern: str | None, path: str | None) -> None:
    """Write the saved objects (data view, panels, dashboard) as NDJSON for Kibana's import."""
    text = export_ndjson(index_pattern, path)
    try:
        with click.open_file(output, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as exc:
        raise click.BadParameter(str(exc), param_hint="--output") from None
    if output != "-":
        err().print(f"{text.count(chr(10))} saved objects written to {output}")


@kibana.command("import", epilog=EXIT_HELP)
@click.option("--url", required=True, type=URL, envvar="SECOPS_KIBANA_URL", help="Kibana base URL.")
@click.option("--space", help="Kibana space id (default: the default space).")
@click.option("--verify-certs/--no-verify-certs", default=True, help="Check TLS certificates.")
@click.option(
    "--ca-certs",
    type=Path(exists=True, dir_okay=False),
    envvar="SECOPS_KIBANA_CA_CERTS",
    help="PEM file of the CA that signed Kibana's certificate (env SECOPS_KIBANA_CA_CERTS).",
)
@PATTERN_OPTION
@FILE_OPTION
@JSON_OPTION
def import_(
    url: str,
    space: str | None,
    verify_certs: bool,
    ca_certs: str | None,
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
        ca_certs=ca_certs,
    )
    result = import_objects(target, export_ndjson(index_pattern, path))
    if as_json:
        echo_json(result)
        return
    err().print(f"imported {result.get('successCount', 0)} saved objects (overwrite)")


COMMANDS = [kibana]
