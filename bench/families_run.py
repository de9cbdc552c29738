"""`make bench` over the corpus families (`bench.families`): per family and size, lines/s,
peak memory, the stage breakdown, exactness against the ground truth, how the run
correlated (steps or one whole piece, late events) and the 10M/1M time ratio.

    make bench BENCH_ARGS="--family dense --lines 1000000"

Results accumulate in bench/FAMILIES.json (a run of one family and size replaces only its
row) and are rendered into bench/RESULTS.md between the family markers.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import corpus, families, truth

SEED = 5
BEGIN, END = "<!-- families: begin -->", "<!-- families: end -->"


def family_corpus(data: Path, family: str, lines: int) -> tuple[Path, float]:
    """The family's corpus under `data` (generated when missing or stale) and the seconds
    generating it took (0 when cached)."""
    out = data / f"family-{family}-{lines}"
    stamp = data / f"family-{family}-{lines}.seed"
    want = f"seed={SEED} lines={lines} v1"
    if out.exists() and stamp.exists() and stamp.read_text() == want:
        return out, 0.0
    print(f"bench: generating {out.name}", file=sys.stderr)
    t0 = time.perf_counter()
    families.generate(out, family, lines, SEED)
    stamp.write_text(want)
    return out, time.perf_counter() - t0


def run_family(data: Path, family: str, lines: int, runs: int, topo: Path) -> dict[str, Any]:
    from bench.run import SECOPS, measure  # bench.run imports this module

    out, gen_s = family_corpus(data, family, lines)
    inputs = families.inputs_of(out)
    env = {**os.environ, "SECOPS_DATA_DIR": str(data / "secops-data")}
    cmd = [str(SECOPS), "correlate", *[x for p in inputs for x in ("-i", str(p))]]
    cmd += ["-t", str(topo), "--year", "2026", "--no-store", "-o", str(data / "f.jsonl"), "--json"]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    done = [measure(cmd, env=env) for _ in range(runs)]
    summary = json.loads(done[-1].stdout)
    raised, cut = truth.secops_findings(summary)
    verdict = truth.check(truth.load_truth(corpus.truth_path(out)), raised, cut)
    stages = [json.loads(r.stdout)["timings"] for r in done]
    wall = statistics.median(r.wall for r in done)
    return {
        "family": family,
        "lines": lines,
        "bytes": sum(p.stat().st_size for p in inputs),
        "files": len(inputs),
        "walls": [round(r.wall, 2) for r in done],
        "wall": round(wall, 2),
        "lines_per_s": round(lines / wall),
        "peak_mib": round(max(max(r.rss_max, r.rss_tree) for r in done) / 1024),
        "exact": verdict.exact,
        "verdict": verdict.text(),
        "correlation": summary["correlation"],
        "stages": {
            k: round(statistics.median(s.get(k, 0.0) for s in stages), 2) for k in stages[0]
        },
        "generate_s": round(gen_s, 1),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": load,
    }


def load(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text()) if path.exists() else []


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keyed = {(r["family"], r["lines"]): r for r in old}
    keyed.update({(r["family"], r["lines"]): r for r in new})
    order = list(families.FAMILIES)
    return sorted(keyed.values(), key=lambda r: (r["lines"], order.index(r["family"])))


def _mode(r: dict[str, Any]) -> str:
    c = r["correlation"]
    if c.get("mode") == "whole":
        return f"whole ({c.get('reason')})"
    return f"{c.get('steps')} steps, {c.get('late_events', 0)} late"


def table(rows: list[dict[str, Any]]) -> list[str]:
    """One row per family and size, then the targets."""
    out = [
        BEGIN,
        "## Corpus families (issue 14: no cliffs)",
        "",
        "`python -m bench.run --family NAME --lines N` (or `make bench BENCH_ARGS=...`); corpora "
        "from `bench/families.py` (seed 5), 10-asset topology, the whole shipped rule set. "
        "Rows may come from different runs: the last column gives when and the load average "
        "before (2 cores shared: a load well above 2 slows every stage).",
        "",
        "| family | lines | files | wall s | lines/s | peak MiB | 10M/1M time | correlation | "
        "detections vs ground truth | measured, load |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    by = {(r["family"], r["lines"]): r for r in rows}
    for r in rows:
        small = by.get((r["family"], 1_000_000))
        ratio = f"{r['wall'] / small['wall']:.2f}" if small and r["lines"] > 1_000_000 else "-"
        out.append(
            f"| {r['family']} | {r['lines']:,} | {r['files']} | {r['wall']:.2f} | "
            f"{r['lines_per_s']:,} | {r['peak_mib']:,} | {ratio} | {_mode(r)} | {r['verdict']} | "
            f"{r.get('measured', '?')}, {r.get('load_before', '?')} |"
        )
    return out + _targets(rows) + _stages(rows) + [END]


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    out = ["", "| target | measured | met |", "|---|---|---|"]
    for lines in sorted({r["lines"] for r in rows}):
        same = [r for r in rows if r["lines"] == lines]
        if len(same) > 1:
            fast = max(same, key=lambda r: r["lines_per_s"])
            slow = min(same, key=lambda r: r["lines_per_s"])
            k = fast["lines_per_s"] / slow["lines_per_s"]
            out.append(
                f"| {lines:,} lines: no family slower than 2x the fastest | {slow['family']} "
                f"{k:.2f}x slower than {fast['family']} | {'yes' if k <= 2 else 'no'} |"
            )
    by = {(r["family"], r["lines"]): r for r in rows}
    for r in rows:
        small = by.get((r["family"], 1_000_000))
        if small and r["lines"] == 10_000_000:
            ratio = r["wall"] / small["wall"]
            out.append(
                f"| {r['family']}: time(10M) <= 11x time(1M) | {ratio:.2f}x | "
                f"{'yes' if ratio <= 11 else 'no'} |"
            )
    for r in rows:
        tag = f"{r['family']}, {r['lines']:,}"
        ok = r["peak_mib"] < 1024
        out.append(
            f"| {tag}: peak memory < 1 GiB | {r['peak_mib']:,} MiB | {'yes' if ok else 'no'} |"
        )
        out.append(f"| {tag}: exact | {r['verdict']} | {'yes' if r['exact'] else 'no'} |")
        if r["family"] == "out-of-order":
            whole = r["correlation"].get("mode") == "whole"
            out.append(f"| {tag}: no whole fallback | {_mode(r)} | {'no' if whole else 'yes'} |")
    return out


def _stages(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(k for r in rows for k in r["stages"]))
    keys = [k for k in keys if not k.startswith("workers:")] + [
        k for k in keys if k.startswith("workers:")
    ]
    out = ["", "Stage breakdown (seconds, median; as in the table above):", ""]
    out.append("| family | lines | " + " | ".join(keys) + " | generate s |")
    out.append("|---|---:|" + "---:|" * (len(keys) + 1))
    for r in rows:
        cells = " | ".join(f"{r['stages'].get(k, 0.0):.2f}" for k in keys)
        out.append(f"| {r['family']} | {r['lines']:,} | {cells} | {r['generate_s']:.1f} |")
    return out


def render(results_md: Path, rows: list[dict[str, Any]]) -> None:
    """The family section of RESULTS.md replaced (or appended)."""
    text = results_md.read_text() if results_md.exists() else ""
    section = "\n".join(table(rows))
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results_md.write_text(text)


def main(data: Path, names: list[str], sizes: list[int], runs: int, results_md: Path) -> int:
    data.mkdir(parents=True, exist_ok=True)
    topo = corpus.write_topology(data / "topology-10", 10, 1, SEED)
    store = results_md.with_name("FAMILIES.json")
    new = []
    for lines in sizes:
        for name in names:
            row = run_family(data, name, lines, runs if lines == sizes[0] else 1, topo)
            new.append(row)
            print(
                f"{name:>12} {lines:>10,} {row['wall']:8.2f} s {row['lines_per_s']:>10,} lines/s "
                f"{row['peak_mib']:6,} MiB  {_mode(row)}  {row['verdict']}",
                file=sys.stderr,
            )
            rows = merge(load(store), [row])
            store.write_text(json.dumps(rows, indent=1) + "\n")
            render(results_md, rows)
    return 0
