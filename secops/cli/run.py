"""`secops run` (one scheduled correlation run, for cron / systemd timers) and
`secops collect --listen` (the syslog collector daemon)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path as FsPath
from typing import Any

import click

from secops import validate
from secops.cli.common import (
    CONFIG_OPTION,
    DATA_DIR_OPTION,
    DURATION,
    ES_URL_OPTION,
    EXCEPTIONS_OPTION,
    JSON_OPTION,
    RULES_OPTION,
    TOPOLOGY_OPTION,
    TZ_OPTION,
    YEAR_OPTION,
    Path,
    config,
    err,
    output_option,
    settings,
)
from secops.cli.correlate import DEAD_OPTION, QUERY_OPTION, es_sink_of
from secops.config import Config, valid_duration
from secops.errors import ConfigError
from secops.schedule import EXIT_LOCKED, LockHeld, RunSettings, run_once
from secops.sink import JsonlSink, LocalStore

RUN_EXIT_HELP = (
    "Exit codes: 0 ok (or nothing new), 1 runtime failure, 2 usage, 3 findings at or above "
    "--fail-on, 4 a sink is down (checkpoint unchanged; the next run catches up), 75 another "
    "run holds the lock, 78 invalid configuration or content."
)
SEVERITIES = click.Choice(["low", "medium", "high", "critical"])


def _setting(cfg: Config, section: str, key: str, flag: Any, default: Any = None) -> Any:
    if flag not in (None, (), []):
        return flag
    value = getattr(cfg, section, {}).get(key)
    return default if value is None else value


def _path(cfg: Config, value: Any) -> FsPath | None:
    if value is None:
        return None
    path = FsPath(str(value))
    if not path.is_absolute() and cfg.file and not str(value).startswith("."):
        return FsPath(cfg.file).resolve().parent / path
    return path


def _duration_ms(value: Any, name: str) -> int:
    try:
        return int(valid_duration(value).total_seconds() * 1000)
    except ConfigError as exc:
        raise ConfigError(f"run.{name}: {exc.message}") from None


def _log(line: dict[str, Any], log_file: FsPath | None, human: str, as_json: bool = False) -> None:
    text = json.dumps(line, sort_keys=True, default=str)
    if log_file:
        with open(log_file, "a", encoding="utf-8") as out:
            out.write(text + "\n")
    if as_json:
        click.echo(text)
    elif sys.stderr.isatty():
        err().print(human)
    elif not log_file:
        click.echo(text, err=True)


@click.command(epilog=RUN_EXIT_HELP)
@click.option("--input", "-i", "inputs", multiple=True, help="File or directory to follow.")
@TOPOLOGY_OPTION
@RULES_OPTION
@EXCEPTIONS_OPTION
@DATA_DIR_OPTION
@click.option("--state-dir", type=Path(file_okay=False), help="Default <data-dir>/state.")
@click.option("--spool-dir", type=Path(file_okay=False), help="Default <data-dir>/spool.")
@click.option(
    "--look-back",
    type=DURATION,
    help="Re-read at least this much before the checkpoint (default: the longest rule window).",
)
@click.option("--max-look-back", type=DURATION, help="Never re-read more than this (default 24h).")
@click.option(
    "--settle", type=DURATION, help="Leave the newest events this long to arrive (default 1m)."
)
@click.option(
    "--fail-on", type=SEVERITIES, help="Exit 3 when a finding at or above this is written."
)
@output_option("Append the finding documents here (JSON lines).", type=Path(dir_okay=False))
@click.option("--store/--no-store", default=True, show_default=True, help="Local store sink.")
@YEAR_OPTION
@TZ_OPTION
@DEAD_OPTION
@click.option("--log-file", type=Path(dir_okay=False), help="Append the JSON log line here.")
@ES_URL_OPTION
@click.option(
    "--es-source",
    metavar="PATTERN",
    help="Also correlate ECS events from these Elasticsearch indices (each run reads its window).",
)
@QUERY_OPTION
@JSON_OPTION
@CONFIG_OPTION
@click.option("--now", hidden=True, help="Pretend it is this time (ISO 8601; replays, tests).")
@click.option(
    "--dry-run", is_flag=True, help="Show what would be read and the window; change nothing."
)
@click.pass_context
def run(ctx: click.Context, /, **opts: Any) -> None:
    """One scheduled run: spool what is new in the inputs, correlate the window
    [checkpoint - look-back, now - settle], write findings to every sink, advance the checkpoint.

    Safe to overlap (a lock) and to kill (the next run re-does the window; ids are stable).
    """
    cfg = settings(
        ctx,
        topology=opts["topology"],
        rules=opts["rules"],
        exceptions=opts["exceptions"],
        year=opts["year"],
        tz=opts["tz"],
        dead_letter=opts["dead_letter"],
        data_dir=opts["data_dir"],
    )
    plan, sinks, log_file = _run_settings(cfg, opts)
    try:
        outcome = run_once(plan, sinks, now=_now(opts["now"]))
    except LockHeld as exc:
        line = {"command": "run", "status": "locked", "exit_code": EXIT_LOCKED, "error": str(exc)}
        _log(line, log_file, f"secops: {exc}")
        sys.exit(EXIT_LOCKED)
    if plan.dry_run:
        click.echo(json.dumps({"window": outcome.window, "files": outcome.plan}, indent=2))
        return
    line = outcome.log_line()
    _log(line, log_file, _human(line), opts["as_json"])
    if outcome.exit_code:
        sys.exit(outcome.exit_code)


def _now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {text}", param_hint="--now") from None


def _run_settings(
    cfg: Config, opts: dict[str, Any]
) -> tuple[RunSettings, list[Any], FsPath | None]:
    store = LocalStore(cfg.data_dir)
    state_dir = (
        _path(cfg, _setting(cfg, "run", "state_dir", opts["state_dir"])) or store.data_dir / "state"
    )
    spool_dir = (
        _path(cfg, _setting(cfg, "run", "spool_dir", opts["spool_dir"])) or store.data_dir / "spool"
    )
    inputs = list(opts["inputs"]) or cfg.inputs
    look_back = _setting(cfg, "run", "look_back", opts["look_back"])
    settings = RunSettings(
        state_dir=state_dir,
        spool_dir=spool_dir,
        inputs=inputs,
        rules_paths=list(cfg.rules) or None,
        topology_path=cfg.topology,
        look_back_ms=_duration_ms(look_back, "look_back") if look_back else 0,
        max_look_back_ms=_duration_ms(
            _setting(cfg, "run", "max_look_back", opts["max_look_back"], "24h"), "max_look_back"
        ),
        settle_ms=_duration_ms(_setting(cfg, "run", "settle", opts["settle"], "1m"), "settle"),
        year=cfg.year,
        tz=cfg.tz,
        dead_letter=cfg.dead_letter,
        fail_on=_setting(cfg, "run", "fail_on", opts["fail_on"]),
        dry_run=opts["dry_run"],
        extra_source=_es_source(
            cfg,
            _setting(cfg, "run", "es_source", opts["es_source"]),
            _setting(cfg, "run", "es_query", opts["query"]),
            opts["es_url"],
        ),
        exceptions_path=cfg.exceptions_path,
    )
    if settings.fail_on and settings.fail_on not in SEVERITIES.choices:
        raise ConfigError(f"run.fail_on must be one of {', '.join(SEVERITIES.choices)}", cfg.file)
    sinks: list[Any] = [store] if opts["store"] else []
    output = _path(cfg, _setting(cfg, "run", "output", opts["output"]))
    if output:
        sinks.append(JsonlSink(output, append=True))
    es = _es_sink(cfg, opts["es_url"])
    if es is not None:
        sinks.append(es)
    log_file = _path(cfg, _setting(cfg, "run", "log_file", opts["log_file"]))
    return settings, sinks, log_file


def _es_source(cfg: Config, pattern: str | None, query: str | None, url: str | None) -> Any:
    """A window reader over Elasticsearch indices (point in time + search_after), or None."""
    if not pattern:
        if query:
            raise click.UsageError("--query needs --es-source")
        return None
    from secops.collect.elasticsearch import Search, iter_es_events
    from secops.elastic import EsSettings, connect
    from secops.errors import CollectError
    from secops.normalise import ParseReport

    settings = EsSettings.resolve(cfg.es, url=url, file=cfg.file)
    if not settings.configured:
        raise click.UsageError("--es-source needs a cluster: --es-url, SECOPS_ES_URL or es.urls")

    def read(start: datetime, end: datetime) -> Any:
        search = Search(pattern, since=start.isoformat(), until=end.isoformat(), query=query)
        client = connect(settings, CollectError)
        return iter_es_events(client, search, report=ParseReport(), dead_letter=cfg.dead_letter)

    return read


def _es_sink(cfg: Config, url: str | None) -> Any:
    """The Elasticsearch sink when a cluster is configured (--es-url, SECOPS_ES_URL, es.urls)."""
    if not (url or cfg.es or os.environ.get("SECOPS_ES_URL")):
        return None
    from secops.elastic import EsSettings

    settings = EsSettings.resolve(cfg.es, url=url, file=cfg.file)
    return es_sink_of(settings, cfg) if settings.configured else None


def _human(line: dict[str, Any]) -> str:
    w = line.get("window", {})
    lines = [
        f"{line['status']}: window {w.get('start')} .. {w.get('end')}, "
        f"{line.get('lines_read', 0):,} new lines ({line.get('dead_lettered', 0):,} unparsed), "
        f"{line.get('events_in_window', 0):,} events, {line.get('findings_raised', 0)} findings "
        f"raised, {line.get('findings_cut', 0)} cut, written {line.get('written', {})}"
    ]
    lines += [f"left out: {e['events']:,} events {e['reason']}" for e in line.get("left_out", [])]
    if line.get("error"):
        lines.append(f"error: {line['error']}")
    return "\n".join(lines)


@click.command(
    epilog=(
        "Exit codes: 0 stopped cleanly (SIGTERM/SIGINT), 1 a flush failed (its messages are in "
        "<data-dir>/pending, replayed at the next start) or another runtime failure, 2 usage, "
        "78 invalid configuration (checked before any port is bound)."
    )
)
@click.option("--listen", is_flag=True, help="Run the syslog collector daemon (required).")
@click.option(
    "--udp",
    metavar="HOST:PORT",
    help="UDP syslog address (default 127.0.0.1:5514; 'off' to disable).",
)
@click.option(
    "--tcp", metavar="HOST:PORT", help="TCP syslog address (default 127.0.0.1:5514; 'off')."
)
@click.option(
    "--tls", metavar="HOST:PORT", help="TLS syslog address (RFC 5425; needs --cert and --key)."
)
@click.option("--cert", type=click.Path(dir_okay=False), help="TLS certificate chain (PEM).")
@click.option("--key", type=click.Path(dir_okay=False), help="TLS private key (PEM).")
@DATA_DIR_OPTION
@click.option("--spool-dir", type=click.Path(file_okay=False), help="Default <data-dir>/spool.")
@click.option(
    "--flush-lines", type=int, help="Flush a micro-batch at this many messages (default 5000)."
)
@click.option(
    "--flush-seconds", type=float, help="... or this long after its first message (default 1)."
)
@click.option("--max-frame", type=int, help="Largest syslog message in bytes (default 65536).")
@click.option(
    "--idle-timeout",
    type=float,
    help="Close a TCP peer silent mid-frame or idle this long (default 60).",
)
@YEAR_OPTION
@TZ_OPTION
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="Append JSON stats lines here (SIGHUP reopens).",
)
@CONFIG_OPTION
@click.pass_context
def collect(ctx: click.Context, /, listen: bool, **opts: Any) -> None:
    """The collector daemon: syslog over UDP, TCP and TLS into the spool, in micro-batches.

    A TCP/TLS peer that half-closes gets a clean close only once all it sent is in the spool
    or the dead-letter file: that is the acknowledgement; anything else is a reset.
    SIGTERM/SIGINT: stop accepting, flush, exit 0. SIGHUP: reopen the log file, flush.
    """
    if not listen:
        raise click.UsageError("only the daemon mode exists: secops collect --listen")
    from secops.collect.listener import ListenerSettings, serve

    cfg = config(ctx).merged(year=opts["year"], tz=opts["tz"], data_dir=opts["data_dir"])
    store = LocalStore(cfg.data_dir)

    def pick(key: str, default: Any = None) -> Any:
        return _setting(cfg, "collect", key, opts.get(key), default)

    settings = ListenerSettings(
        spool_dir=_path(cfg, pick("spool_dir"))
        or _path(cfg, cfg.run.get("spool_dir"))
        or store.data_dir / "spool",
        udp=pick("udp", "127.0.0.1:5514"),
        tcp=pick("tcp", "127.0.0.1:5514"),
        tls=pick("tls"),
        cert=_path(cfg, pick("cert")),
        key=_path(cfg, pick("key")),
        flush_lines=validate.positive(pick("flush_lines", 5000), "--flush-lines", int),
        flush_seconds=validate.positive(pick("flush_seconds", 1.0), "--flush-seconds"),
        max_frame=validate.positive(pick("max_frame", 65536), "--max-frame", int),
        idle_timeout=validate.positive(pick("idle_timeout", 60.0), "--idle-timeout"),
        year=cfg.year,
        tz=cfg.tz,
        dead_letter=cfg.dead_letter,
        log_file=_path(cfg, pick("log_file")),
        pending_dir=store.data_dir / "pending",
    )
    sys.exit(serve(settings))


COMMANDS = [run, collect]
