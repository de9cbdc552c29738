"""Pictures for the report (matplotlib, no pyplot state): SVG text or PNG bytes."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from secops.report.data import SEVERITIES, ReportData
from secops.topology.map import COLOURS


def _figure(width: float = 9.0, height: float = 3.2) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _save(fig: Any, fmt: str) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "secops"}):
        fig.savefig(
            buf, format=fmt, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else {}
        )
    return buf.getvalue()


def timeline(r: ReportData, fmt: str = "svg") -> bytes:
    """Findings over time (by the time their events started): raised stacked by severity, cut."""
    fig = _figure()
    ax = fig.add_subplot()
    rows = [
        {
            "t": pd.Timestamp(d["event"]["start"]),
            "sev": "cut" if d["finding"]["suppressed"] else d["finding"]["severity"],
        }
        for d in r.findings
    ]
    if not rows:
        ax.text(0.5, 0.5, "no findings in this period", ha="center", va="center")
        ax.set_axis_off()
        return _save(fig, fmt)
    frame = pd.DataFrame(rows)
    span = frame["t"].max() - frame["t"].min()
    freq = (
        "15min" if span <= pd.Timedelta(hours=6) else "1h" if span <= pd.Timedelta(days=2) else "1D"
    )
    table = frame.groupby([frame["t"].dt.floor(freq), "sev"]).size().unstack(fill_value=0)
    order = [s for s in (*reversed(SEVERITIES), "cut") if s in table.columns]
    width = pd.Timedelta(freq) * 0.8
    bottom = None
    for sev in order:
        colour = "#bdbdbd" if sev == "cut" else COLOURS[sev]
        ax.bar(
            table.index,
            table[sev],
            width=width,
            bottom=bottom,
            color=colour,
            label=sev,
            align="edge",
        )
        bottom = table[sev] if bottom is None else bottom + table[sev]
    ax.set_ylabel("findings")
    ax.set_title(f"Findings over time (per {freq}, by event start; grey = cut)")
    ax.legend(fontsize=8, ncols=len(order))
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return _save(fig, fmt)


def severity_bars(r: ReportData, fmt: str = "svg") -> bytes:
    fig = _figure(4.5, 2.6)
    ax = fig.add_subplot()
    names = list(SEVERITIES)
    ax.barh(names, [r.by_severity.get(s, 0) for s in names], color=[COLOURS[s] for s in names])
    ax.invert_yaxis()
    ax.set_title("Raised findings by severity")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, fmt)


def rule_bars(r: ReportData, fmt: str = "svg") -> bytes:
    rows = r.by_rule[:15]
    fig = _figure(6.5, 0.8 + 0.3 * max(len(rows), 1))
    ax = fig.add_subplot()
    names = [x[0] for x in rows]
    ax.barh(names, [x[1] for x in rows], color=COLOURS["high"], label="raised")
    ax.barh(names, [x[2] for x in rows], left=[x[1] for x in rows], color="#bdbdbd", label="cut")
    ax.invert_yaxis()
    ax.set_title("Findings by rule: raised and cut")
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, fmt)
