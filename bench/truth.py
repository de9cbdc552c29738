"""Ground-truth checks: what a tool reported against what the corpus planted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the key of each rule in the ground truth
KEYS = {
    "ssh-brute-force": ("source.ip",),
    "port-scan-vertical": ("source.ip", "destination.ip"),
    "privilege-escalation-after-failures": ("host.name", "user.name"),
}

Key = tuple[str, ...]


@dataclass
class Verdict:
    found: int = 0
    planted: int = 0
    missed: list[Key] = field(default_factory=list)
    decoys_raised: list[Key] = field(default_factory=list)
    unexpected: list[Key] = field(default_factory=list)
    scanner_raised: int = 0  # what the topology cuts, raised by a tool that has none
    cut_ok: int | None = None  # topology cuts seen (secops only)
    cut_planted: int = 0

    @property
    def exact(self) -> bool:
        return not (self.missed or self.decoys_raised or self.unexpected) and (
            self.cut_ok is None or self.cut_ok == self.cut_planted
        )

    def text(self) -> str:
        head = f"{self.found}/{self.planted} found"
        parts = [head, f"{len(self.decoys_raised)} decoys raised"]
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} other raised")
        if self.cut_ok is not None:
            parts.append(f"{self.cut_ok}/{self.cut_planted} cut by topology")
        if self.scanner_raised:
            parts.append(f"{self.scanner_raised} authorized-scanner scan raised (no topology)")
        return ("exact: " if self.exact else "WRONG: ") + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact": self.exact,
            "found": self.found,
            "planted": self.planted,
            "missed": self.missed,
            "decoys_raised": self.decoys_raised,
            "unexpected": self.unexpected,
            "cut_ok": self.cut_ok,
            "cut_planted": self.cut_planted,
            "scanner_raised": self.scanner_raised,
        }


def load_truth(path: Path) -> dict[str, list[dict[str, str]]]:
    return json.loads(Path(path).read_text())


def _key(item: dict[str, Any]) -> Key:
    return (item["rule"], *(str(item.get(k)) for k in KEYS[item["rule"]]))


def check(
    truth: dict[str, list[dict[str, str]]],
    raised: Iterable[dict[str, Any]],
    cut: Iterable[dict[str, Any]] | None = None,
) -> Verdict:
    """`raised` / `cut`: dicts with `rule` and the rule's key fields. Rules outside the truth
    count as unexpected when raised (the corpus plants nothing for them)."""
    planted = {_key(t) for t in truth["raised"]}
    decoys = {_key(t) for t in truth["decoys"]}
    seen = {_key(r) if r["rule"] in KEYS else (r["rule"],) for r in raised}
    v = Verdict(found=len(planted & seen), planted=len(planted))
    v.missed = sorted(planted - seen)
    v.decoys_raised = sorted(decoys & seen)
    want_cut = {_key(t) for t in truth.get("cut", [])}
    v.cut_planted = len(want_cut)
    if cut is None:  # no topology: raising what it would cut is expected, not wrong
        v.scanner_raised = len(want_cut & seen)
        seen -= want_cut
    v.unexpected = sorted(seen - planted - decoys)
    if cut is not None:
        v.cut_ok = len(want_cut & {_key(c) for c in cut if c["rule"] in KEYS})
    return v


def secops_findings(summary: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(raised, cut) from `secops correlate --json` output."""
    found = summary["findings"]
    return [f for f in found if not f["suppressed"]], [f for f in found if f["suppressed"]]


def sec_findings(stdout: str) -> list[dict[str, Any]]:
    """SEC's `write -` actions: `<rule> field=value ...` per line."""
    out = []
    for line in stdout.splitlines():
        rule, *pairs = line.split()
        if rule in KEYS:
            out.append({"rule": rule, **dict(p.split("=", 1) for p in pairs)})
    return out
