"""`make bench`: secops beside SEC and liblognorm on the same generated corpora.

    .venv/bin/python -m bench.run [--sizes 1000000,10000000] [--runs 3] [--out bench/RESULTS.md]
    .venv/bin/python -m bench.run --family dense --lines 1000000   # one family, one size

Generates (and caches under bench/data/) the corpora and topologies, installs the peers when
missing (Debian: `apt-get install -y sec liblognorm-utils time`), runs every tool under
`/usr/bin/time -v` while sampling the RSS of the whole process tree, checks detections
against the ground truth, and writes bench/RESULTS.md (+ results.json); then the corpus
families (`bench/families.py`, `bench/families_run.py`), one row per family and size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench import corpus, families, families_run, truth

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
SECOPS = ROOT / ".venv" / "bin" / "secops"
SEED = 5


@dataclass
class Run:
    wall: float
    rss_max: int  # largest single process, KiB (/usr/bin/time -v)
    rss_tree: int  # peak PSS summed over the process tree, KiB (sampled every 50 ms)
    stdout: str
    stderr: str


@dataclass
class Row:
    tool: str
    job: str
    size: int
    nbytes: int
    runs: list[Run] = field(default_factory=list)
    verdict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return max(max(r.rss_max, r.rss_tree) for r in self.runs) / 1024

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "job": self.job,
            "lines": self.size,
            "bytes": self.nbytes,
            "walls": [round(r.wall, 3) for r in self.runs],
            "wall_median": round(self.wall, 3),
            "lines_per_s": round(self.size / self.wall),
            "mb_per_s": round(self.nbytes / 1e6 / self.wall, 2),
            "peak_rss_mib": round(self.rss_mib, 1),
            "verdict": self.verdict,
            **self.extra,
        }


# ------------------------------------------------------------------------------------------
# measuring


def _tree_pss_kib(pid: int) -> int:
    """Proportional set size summed over the process tree: forked workers share pages with
    their parent, which a sum of RSS would count once per process."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                total += next((int(x.split()[1]) for x in fh if x.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], stdin: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` under /usr/bin/time -v; wall clock from here, RSS from time and sampling."""
    full = ["/usr/bin/time", "-v", *cmd]
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        full, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _tree_pss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if fin is not subprocess.DEVNULL:
        fin.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    rss = next(
        (int(x.split()[-1]) for x in err.splitlines() if "Maximum resident set size" in x), 0
    )
    return Run(wall, rss, peak[0], out, err)


# ------------------------------------------------------------------------------------------
# setup


def ensure_peers() -> dict[str, str]:
    """Install sec / lognormalizer / time when missing (Debian, as root); their versions."""
    need = [
        pkg
        for exe, pkg in (
            ("sec", "sec"),
            ("lognormalizer", "liblognorm-utils"),
            ("/usr/bin/time", "time"),
        )
        if shutil.which(exe) is None
    ]
    if need:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            sys.exit(
                f"bench: missing {', '.join(need)}; install them (apt-get install -y {' '.join(need)})"
            )
        print(f"bench: installing {' '.join(need)}", file=sys.stderr)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *need], check=True, stdout=subprocess.DEVNULL
        )
    versions = {}
    for pkg in ("sec", "liblognorm-utils", "liblognorm5"):
        q = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True
        )
        if q.returncode == 0:
            versions[pkg] = q.stdout
    return versions


def corpus_file(data: Path, lines: int) -> Path:
    path = data / f"corpus-{lines}.log"
    stamp = data / f"corpus-{lines}.seed"
    want = f"seed={SEED} lines={lines} v1"
    if not (path.exists() and stamp.exists() and stamp.read_text() == want):
        print(f"bench: generating {path.name}", file=sys.stderr)
        corpus.generate(path, lines, SEED)
        stamp.write_text(want)
    return path


def topology_dir(data: Path, assets: int, zones: int) -> Path:
    path = data / f"topology-{assets}"
    if not (path / "assets.yaml").exists():
        corpus.write_topology(path, assets, zones, SEED)
    return path


# ------------------------------------------------------------------------------------------
# tools


def run_secops(path: Path, topo: Path, data: Path, runs: int, tag: str = "") -> Row:
    env = {**os.environ, "SECOPS_DATA_DIR": str(data / "secops-data")}
    row = Row(f"secops correlate{tag}", "parse + enrich + 12 rules + judge + sink", 0, 0)
    out = data / "secops-findings.jsonl"
    for _ in range(runs):
        cmd = [str(SECOPS), "correlate", "-i", str(path), "-t", str(topo), "--year", "2026"]
        cmd += ["--no-store", "-o", str(out), "--json"]
        row.runs.append(measure(cmd, env=env))
    summary = json.loads(row.runs[-1].stdout)
    raised, cut = truth.secops_findings(summary)
    row.verdict = truth.check(truth.load_truth(corpus.truth_path(path)), raised, cut).text()
    stages = [json.loads(r.stdout)["timings"] for r in row.runs]
    row.extra["stages"] = {
        k: round(statistics.median(s.get(k, 0.0) for s in stages), 3) for k in stages[0]
    }
    row.extra["parse_rate"] = summary["parse"]["parse_rate"]
    return row


def run_sec(path: Path, conf: str, runs: int, tag: str) -> Row:
    row = Row(f"SEC {tag}", "2 rules (threshold, distinct)", 0, 0)
    for _ in range(runs):
        cmd = ["sec", f"--conf={PEERS / conf}", f"--input={path}", "--notail", "--log=/dev/null"]
        row.runs.append(measure(cmd))
    found = truth.sec_findings(row.runs[-1].stdout)
    row.verdict = truth.check(truth.load_truth(corpus.truth_path(path)), found).text()
    return row


def run_lognormalizer(path: Path, runs: int) -> Row:
    row = Row("lognormalizer", "parse 6 line types to JSON", 0, 0)
    for _ in range(runs):
        cmd = [
            "sh",
            "-c",
            f"lognormalizer -r {PEERS / 'lognormalizer.rulebase'} -e json -U > /dev/null",
        ]
        row.runs.append(measure(cmd, stdin=path))
    unparsed = next((int(w) for w in row.runs[-1].stderr.split() if w.isdigit()), 0)
    row.verdict = f"parse only: {unparsed} lines unparsed"
    return row


# ------------------------------------------------------------------------------------------
# report


def _fmt(n: float) -> str:
    return f"{n:,.0f}"


def write_results(rows: list[Row], meta: dict[str, Any], out: Path) -> str:
    lines = [
        "# Benchmark results (`make bench`)",
        "",
        f"Measured {meta['date']} on {meta['machine']}; load average before the run "
        f"{meta['load_before']}, after {meta['load_after']} (other jobs shared the machine: "
        "treat absolute numbers as lower bounds). Peers: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + ".",
        "Wall time is the median of the runs listed; peak memory is the larger of `/usr/bin/time "
        "-v`'s maximum RSS (largest single process) and the peak of the process tree's summed "
        "PSS sampled every 50 ms (secops forks parse workers that share pages with it).",
        "",
        "| lines | tool | job | runs | wall s (median) | lines/s | MB/s | peak memory MiB | detections vs ground truth |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        d = r.to_dict()
        walls = ", ".join(f"{w:.1f}" for w in d["walls"])
        lines.append(
            f"| {_fmt(r.size)} | {r.tool} | {r.job} | {len(r.runs)} ({walls}) | {r.wall:.2f} | "
            f"{_fmt(d['lines_per_s'])} | {d['mb_per_s']:.1f} | {r.rss_mib:,.0f} | {r.verdict} |"
        )
    lines += ["", "## secops / peer (lines/s ratio; > 1 means secops is faster)", ""]
    lines += [
        "| lines | vs SEC (log time) | vs SEC (arrival time) | vs lognormalizer |",
        "|---:|---:|---:|---:|",
    ]
    for size in sorted({r.size for r in rows}):
        by = {r.tool: r for r in rows if r.size == size}
        ours = by.get("secops correlate")
        if ours is None:
            continue
        cells = []
        for peer in ("SEC log time", "SEC arrival time", "lognormalizer"):
            p = by.get(peer)
            cells.append(f"{p.wall / ours.wall:.2f}x" if p else "-")
        lines.append(f"| {_fmt(size)} | " + " | ".join(cells) + " |")
    lines += _targets(rows) + _stage_table(rows) + _scaling(rows) + ["", *meta["notes"], ""]
    text = "\n".join(lines)
    out.write_text(text)
    out.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "rows": [r.to_dict() for r in rows]}, indent=1) + "\n"
    )
    return text


def _targets(rows: list[Row]) -> list[str]:
    """Issue 5's targets, on the largest corpus, as met or missed."""
    by = {(r.tool, r.size): r for r in rows}
    sizes = sorted({r.size for r in rows if r.tool == "secops correlate"})
    if not sizes:
        return []
    big, small = sizes[-1], sizes[0]
    ours = by[("secops correlate", big)]
    rate = ours.to_dict()["lines_per_s"]
    out = [
        "",
        f"## Targets ({_fmt(big)} lines)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]

    def row(target: str, measured: str, ok: bool) -> None:
        out.append(f"| {target} | {measured} | {'yes' if ok else 'no'} |")

    row(">= 1,000,000 lines/s end to end", f"{_fmt(rate)} lines/s", rate >= 1_000_000)
    for peer, want in (("lognormalizer", 4.0), ("SEC log time", 9.0)):
        p = by.get((peer, big))
        if p:
            ratio = p.wall / ours.wall
            row(f">= {want:g}x {peer}", f"{ratio:.2f}x", ratio >= want)
    row("exact detections", ours.verdict, ours.verdict.startswith("exact"))
    row("peak memory < 1 GiB", f"{ours.rss_mib:,.0f} MiB", ours.rss_mib < 1024)
    if big != small:
        ratio = ours.wall / by[("secops correlate", small)].wall
        row(f"time({_fmt(big)}) <= 11x time({_fmt(small)})", f"{ratio:.2f}x", ratio <= 11)
    topo = by.get(("secops correlate, 10,000 assets", big))
    if topo:
        extra = topo.wall / ours.wall - 1
        row("10,000 assets cost < 10% over 10", f"{extra * 100:+.1f}%", extra < 0.10)
    return out


def _stage_table(rows: list[Row]) -> list[str]:
    ours = [r for r in rows if r.tool.startswith("secops")]
    if not ours:
        return []
    keys = list(dict.fromkeys(k for r in ours for k in r.extra["stages"]))
    keys = [k for k in keys if not k.startswith("workers:")] + [
        k for k in keys if k.startswith("workers:")
    ]
    out = ["", "## secops stage breakdown (seconds, median; `secops correlate --json` timings)", ""]
    out += [
        "Main-process stages are wall seconds (`read+parse+enrich` is the parent waiting for "
        "the parse workers; `rules`, `judge`, `score` summed over the correlation steps; `steps` "
        "= cutting each step's window, resume points, rows held back); `workers:*` are seconds "
        "summed over the worker processes (read = cut lines, parse = detect format + headers + "
        "parsers + timestamps, enrich+select = topology columns, rule condition masks, the "
        "rows and columns the rules use, and the kept lines' hashes and ids).",
        "",
    ]
    out.append("| lines | run | " + " | ".join(keys) + " | main total |")
    out.append("|---:|---|" + "---:|" * (len(keys) + 1))
    for r in ours:
        st = r.extra["stages"]
        cells = " | ".join(f"{st.get(k, 0.0):.2f}" for k in keys)
        main = sum(v for k, v in st.items() if not k.startswith("workers:"))
        out.append(f"| {_fmt(r.size)} | {r.tool} | {cells} | {main:.2f} |")
    return out


def _scaling(rows: list[Row]) -> list[str]:
    by = {(r.tool, r.size): r for r in rows}
    out = ["", "## Scaling and topology size", ""]
    sizes = sorted({r.size for r in rows if r.tool == "secops correlate"})
    if len(sizes) >= 2:
        a, b = by[("secops correlate", sizes[0])], by[("secops correlate", sizes[-1])]
        k = sizes[-1] / sizes[0]
        out.append(
            f"- time for {_fmt(sizes[-1])} lines / time for {_fmt(sizes[0])}: "
            f"{b.wall / a.wall:.2f} (linear = {k:.0f}; target <= {k * 1.1:.0f})"
        )
    for (tool, size), r in sorted(by.items()):
        if "10,000 assets" in tool:
            base = by[("secops correlate", size)]
            out.append(
                f"- topology of 10,000 assets / 1,000 zones vs 10 assets, {_fmt(size)} lines: "
                f"{r.wall:.2f} s vs {base.wall:.2f} s ({(r.wall / base.wall - 1) * 100:+.1f}%; "
                f"load {r.extra['stages'].get('load', 0):.2f} s vs {base.extra['stages'].get('load', 0):.2f} s, "
                f"enrich+select {r.extra['stages'].get('workers:enrich+select', 0):.2f} s vs "
                f"{base.extra['stages'].get('workers:enrich+select', 0):.2f} s, "
                f"judge {r.extra['stages'].get('judge', 0):.2f} s vs {base.extra['stages'].get('judge', 0):.2f} s)"
            )
    return out


NOTES = [
    "## How the peers were run",
    "",
    "- **SEC log time** (`bench/peers/sec-logtime.conf`): SEC has no option to take window times "
    "from the input (its `SingleWithThreshold` and context lifetimes run on the arrival clock; "
    "`--input-timeout` only concerns idle inputs). So each rule is a `PerlFunc` pattern that "
    "reads the syslog timestamp and keeps the sliding window per key in Perl (10 failures in "
    "300 s by source; 15 distinct ports in 300 s by source + destination); SEC does the "
    "dispatch and the `write` action. One report per key. The Perl windows keep a (pruned) "
    "entry for every key ever seen, which is most of SEC's memory on the 10M corpus.",
    "- **SEC arrival time** (`bench/peers/sec-arrival.conf`): the classic `SingleWithThreshold` "
    "rules, for contrast; replaying a file squeezes the day into seconds, and it counts events, "
    "not distinct ports, so the slow and single-port decoys are raised.",
    "- **lognormalizer** (`bench/peers/lognormalizer.rulebase`): liblognorm v2 rulebase for the "
    "six line types, `lognormalizer -e json -U < corpus > /dev/null` (parse only, no "
    "correlation).",
    "- **secops**: `secops correlate -i corpus -t topology --year 2026 --no-store -o "
    "findings.jsonl --json`, the whole shipped rule set (12 rules incl. Sigma), topology "
    "judgement, JSON lines sink.",
    "- Ground truth (`bench/corpus.py`): planted brute forces and vertical scans must be raised; "
    "decoys (slow, under threshold, single port) must not; the authorized scanner's scan must "
    "be cut by the topology (secops only: the peers have no topology).",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run")
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool on the smallest size")
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument(
        "--family", action="append", choices=[*families.FAMILIES, "all"],
        help="only these corpus families (repeatable; 'all'), no peers",
    )  # fmt: skip
    ap.add_argument("--lines", help="sizes for --family (default: --sizes)")
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in (args.lines or args.sizes).split(","))
    args.data.mkdir(parents=True, exist_ok=True)
    names = list(families.FAMILIES)
    if args.family:
        picked = names if "all" in args.family else [n for n in names if n in args.family]
        return families_run.main(args.data, picked, sizes, args.runs, args.out)
    versions = ensure_peers()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    topo10 = topology_dir(args.data, 10, 1)
    topo10k = topology_dir(args.data, 10_000, 1_000)
    rows: list[Row] = []
    for size in sizes:
        path = corpus_file(args.data, size)
        runs = args.runs if size == sizes[0] else 1
        todo = [
            partial(run_secops, path, topo10, args.data, runs),
            partial(run_sec, path, "sec-logtime.conf", runs, "log time"),
            partial(run_lognormalizer, path, runs),
        ]
        todo.append(partial(run_secops, path, topo10k, args.data, runs, ", 10,000 assets"))
        if size == sizes[0]:
            todo.append(partial(run_sec, path, "sec-arrival.conf", 1, "arrival time"))
        for job in todo:
            row = job()
            row.size, row.nbytes = size, path.stat().st_size
            rows.append(row)
            d = row.to_dict()
            print(
                f"{size:>10} {row.tool:<32} {row.wall:8.2f} s {d['lines_per_s']:>10,} lines/s "
                f"{row.rss_mib:7.0f} MiB  {row.verdict}",
                file=sys.stderr,
            )
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}",
        "load_before": load_before,
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": versions,
        "notes": NOTES,
    }
    print(write_results(rows, meta, args.out))
    return families_run.main(args.data, names, sizes, args.runs, args.out)


if __name__ == "__main__":
    sys.exit(main())
