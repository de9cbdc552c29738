"""Reports: what happened in a day or a week, for the people who read rather than query.

`write_report(docs, out, period=..., fmt="html"|"md", topology=...)`: counts by severity and
rule, raised vs cut with reasons, top targeted assets, open and overdue findings, per-rule
health, response times, findings over time and the topology map. HTML is one self-contained
file (pictures inline as data URIs, no network needed); Markdown writes its PNGs beside it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from secops.report import render
from secops.report.data import PERIODS, ReportData, build
from secops.triage.sla import Sla


def write_report(
    docs: list[dict[str, Any]],
    out: str | Path,
    *,
    period: str = "day",
    fmt: str = "html",
    topology: Any = None,
    sla: dict[str, Sla],
    now: datetime | None = None,
) -> ReportData:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = build(docs, period, sla, now)
    map_png = None
    if topology is not None:
        from secops.topology.map import render as render_map

        map_png = render_map(topology, data.open, "png", title="Open findings on the topology")
    title = f"secops report: the last {period}"
    text = (
        render.html(data, map_png, title)
        if fmt == "html"
        else render.markdown(data, out, map_png, title)
    )
    out.write_text(text, encoding="utf-8")
    return data


__all__ = ["PERIODS", "ReportData", "build", "write_report"]
