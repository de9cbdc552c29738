"""The report as one self-contained HTML page (pictures inline as data URIs) or as Markdown."""

from __future__ import annotations

import base64
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from secops.report import charts
from secops.report.data import ReportData, cut_reason, duration

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;color:#212121;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}
.muted{color:#757575}.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.6rem}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#fafafa}figure{margin:1rem 0}figure img{max-width:100%;height:auto}
.sev{padding:0 .4rem;border-radius:4px;color:#fff}.critical{background:#7f0000}
.high{background:#d62728}.medium{background:#ff7f0e}.low{background:#f2c14e;color:#000}
.overdue{color:#b71c1c;font-weight:bold}.row{display:flex;gap:1rem;flex-wrap:wrap}
"""
CHECK = """
(function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('figure img'));
  var ok = 0, bad = [], pending = imgs.length;
  function done() {
    document.body.setAttribute('data-images-ok', String(ok));
    document.body.setAttribute('data-images-bad', bad.join(' '));
    document.body.setAttribute('data-ready', '1');
  }
  if (!pending) { done(); return; }
  imgs.forEach(function (img) {
    function fin() {
      if (img.naturalWidth > 0) { ok++; } else { bad.push(img.parentNode.id); }
      if (--pending === 0) { done(); }
    }
    if (img.complete) { fin(); } else { img.onload = fin; img.onerror = fin; }
  });
})();
"""


def _img(fig_id: str, data: bytes, mime: str, alt: str) -> str:
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return f"<figure id='{fig_id}'><img alt='{escape(alt)}' src='{uri}'></figure>"


def _sev(s: str) -> str:
    return f"<span class='sev {escape(s)}'>{escape(s)}</span>"


def _table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p class='muted'>none</p>"
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def _open_rows(r: ReportData, esc: Callable[[str], str]) -> list[list[str]]:
    overdue = {d["finding"]["id"] for d in r.overdue}
    rows = []
    for d in r.open[:100]:
        fi = d["finding"]
        late = "<span class='overdue'>overdue</span>" if fi["id"] in overdue else ""
        rows.append(
            [
                f"<code>{fi['id'][:10]}</code>",
                _sev(fi["severity"]),
                esc(d["rule"]["id"]),
                esc(d.get("message", "")),
                esc(fi.get("status", "open")) + " " + late,
                esc((fi.get("triage") or {}).get("assignee", "-")),
            ]
        )
    return rows


def sections(r: ReportData) -> dict[str, Any]:
    """The tables every format shows (plain strings; HTML escapes them)."""
    resp = r.response
    return {
        "cards": [
            ("raised", len(r.raised)),
            ("cut", len(r.cut)),
            ("open", len(r.open)),
            ("overdue", len(r.overdue)),
            ("median time to ack", duration(resp["all"]["time_to_ack"])),
            ("median time to resolve", duration(resp["all"]["time_to_resolve"])),
        ],
        "rules": [[rule, str(n), str(c)] for rule, n, c in r.by_rule],
        "reasons": [[reason, str(n)] for reason, n in r.cut_reasons],
        "targets": [[t, str(n), worst] for t, n, worst in r.top_targets],
        "health": [
            [
                h.rule,
                str(h.raised),
                str(h.cut),
                str(h.false_positive),
                _pct(h.share_false_positive),
                _pct(h.precision),
                duration(h.median_time_to_ack),
            ]
            for h in r.health
        ],
        "response": [
            [s, str(v["findings"]), duration(v["time_to_ack"]), duration(v["time_to_resolve"])]
            for s, v in resp.items()
        ],
    }


HEALTH = ["rule", "raised", "cut", "false positive", "share FP", "precision", "median ack"]


def esc_rows(rows: list[list[Any]]) -> list[list[str]]:
    return [[escape(c) for c in row] for row in rows]


def html(r: ReportData, map_png: bytes | None, title: str) -> str:
    s, e = sections(r), escape
    cards = "".join(f"<div class='card'>{e(k)}<b>{e(str(v))}</b></div>" for k, v in s["cards"])
    figures = _img("chart-timeline", charts.timeline(r), "image/svg+xml", "findings over time")
    figures += "<div class='row'>" + _img(
        "chart-severity", charts.severity_bars(r), "image/svg+xml", "raised by severity"
    )
    figures += _img("chart-rules", charts.rule_bars(r), "image/svg+xml", "by rule") + "</div>"
    topo = (
        _img("topology-map", map_png, "image/png", "topology map with the open findings")
        if map_png
        else "<p class='muted'>no topology given (--topology): no map</p>"
    )
    targets = [[e(t), n, _sev(w)] for t, n, w in s["targets"]]
    body = f"""
<h1>{e(title)}</h1>
<p class='muted'>{e(r.start.isoformat(timespec="minutes"))} .. {e(r.end.isoformat(timespec="minutes"))}
 &middot; {len(r.findings)} findings (raised by secops in the period, or with events in it)</p>
<section id='summary'><div class='cards'>{cards}</div></section>
<section id='charts'><h2>Findings over time, by severity and rule</h2>{figures}</section>
<section id='map'><h2>Topology map: the attack story</h2>{topo}</section>
<section id='open'><h2>Open findings ({len(r.open)}, {len(r.overdue)} overdue)</h2>
{_table(["id", "severity", "rule", "what", "status", "assignee"], _open_rows(r, e))}</section>
<section id='cut'><h2>Raised vs cut, by rule</h2>
{_table(["rule", "raised", "cut"], esc_rows(s["rules"]))}
<h3>Why findings were cut</h3>{_table(["reason", "findings"], esc_rows(s["reasons"]))}</section>
<section id='targets'><h2>Top targeted assets</h2>
{_table(["target", "raised findings", "worst"], targets)}</section>
<section id='health'><h2>Rule health (noisiest first)</h2>{_table(HEALTH, esc_rows(s["health"]))}</section>
<section id='response'><h2>Response times (median)</h2>
{_table(["severity", "findings", "time to ack", "time to resolve"], esc_rows(s["response"]))}</section>
"""
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}<script>{CHECK}</script></body></html>\n"
    )


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "_none_\n"
    clean = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in clean]) + "\n"


def markdown(r: ReportData, out: Path, map_png: bytes | None, title: str) -> str:
    """Markdown with the pictures written next to it as PNG files (`<stem>-timeline.png`...)."""
    s = sections(r)
    pics = {"timeline": charts.timeline(r, "png"), "rules": charts.rule_bars(r, "png")}
    if map_png:
        pics["map"] = map_png
    for name, data in pics.items():
        out.with_name(f"{out.stem}-{name}.png").write_bytes(data)
    overdue = {d["finding"]["id"] for d in r.overdue}
    open_rows = [
        [
            f"`{d['finding']['id'][:10]}`",
            d["finding"]["severity"],
            d["rule"]["id"],
            d.get("message", ""),
            d["finding"].get("status", "open")
            + (" **overdue**" if d["finding"]["id"] in overdue else ""),
        ]
        for d in r.open[:100]
    ]
    parts = [
        f"# {title}\n",
        f"{r.start.isoformat(timespec='minutes')} .. {r.end.isoformat(timespec='minutes')}, "
        f"{len(r.findings)} findings\n",
        _md_table([k for k, _v in s["cards"]], [[str(v) for _k, v in s["cards"]]]),
        f"![findings over time]({out.stem}-timeline.png)\n",
        f"![by rule]({out.stem}-rules.png)\n",
        "## Topology map\n",
        f"![topology map]({out.stem}-map.png)\n" if map_png else "_no topology given_\n",
        f"## Open findings ({len(r.open)}, {len(r.overdue)} overdue)\n",
        _md_table(["id", "severity", "rule", "what", "status"], open_rows),
        "## Raised vs cut, by rule\n",
        _md_table(["rule", "raised", "cut"], s["rules"]),
        "### Why findings were cut\n",
        _md_table(["reason", "findings"], s["reasons"]),
        "## Top targeted assets\n",
        _md_table(["target", "raised findings", "worst"], s["targets"]),
        "## Rule health (noisiest first)\n",
        _md_table(HEALTH, s["health"]),
        "## Response times (median)\n",
        _md_table(["severity", "findings", "time to ack", "time to resolve"], s["response"]),
    ]
    return "\n".join(parts)


__all__ = ["cut_reason", "html", "markdown"]
