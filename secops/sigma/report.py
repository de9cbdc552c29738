"""`secops rules import-sigma`: a verdict per Sigma rule under some paths, and a summary."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secops.content import yaml_files
from secops.sigma.load import SigmaLoad, Verdict, load_sigma
from secops.sigma.sniff import sniff

_QUOTED = re.compile(r"'[^']*'")


def import_sigma(paths: Iterable[str | Path], overlays: Iterable[str | Path] = ()) -> SigmaLoad:
    """Load every Sigma file (and overlay) under `paths`; native rule files are skipped."""
    files: list[Path] = []
    found_overlays: list[Path] = [Path(o) for o in overlays]
    for root in paths:
        for f in yaml_files(root):
            kind = sniff(f)
            if kind == "sigma":
                files.append(f)
            elif kind == "overlay":
                found_overlays.append(f)
    return load_sigma(files, found_overlays)


def reason_class(reason: str) -> str:
    """Group similar reasons: names in quotes become '…'; logsources stay (they are the point)."""
    if reason.startswith("logsource "):
        return reason.split(" is not produced", 1)[0] + " is not produced by our collectors"
    return _QUOTED.sub("'…'", reason.split(" (", 1)[0])


def summary(verdicts: list[Verdict], top: int = 10) -> dict[str, Any]:
    rules = [v for v in verdicts if v.kind != "filter"]
    counts = Counter(v.status for v in rules)
    reasons = Counter(reason_class(v.reason or "") for v in rules if v.status == "unsupported")
    return {
        "rules": len(rules),
        "supported": counts.get("supported", 0),
        "unsupported": counts.get("unsupported", 0),
        "invalid": counts.get("invalid", 0),
        "disabled": counts.get("disabled", 0),
        "filters": sum(1 for v in verdicts if v.kind == "filter"),
        "top_reasons": [{"reason": r, "rules": n} for r, n in reasons.most_common(top)],
    }


def switch_off_overlay(verdicts: list[Verdict]) -> str:
    """A Sigma overlay (YAML text) that switches off every unsupported rule, each with its file
    and reason as a comment: with it beside the rules, a run takes the rest (the unsupported
    ones are then reported as disabled, never silently dropped)."""
    lines = [
        "# written by 'secops rules import-sigma --switch-off': the unsupported rules, off",
        "overlay: sigma",
        "rules:",
    ]
    for v in sorted(verdicts, key=lambda v: (v.file or "", v.id)):
        if v.status == "unsupported" and v.kind == "detection":
            lines.append(f"  # {v.file}: {v.reason}".replace("\n", " "))
            lines.append(f"  - {{id: '{v.id}', enabled: false}}")
    if lines[-1] == "rules:":
        lines[-1] = "rules: []"
    return "\n".join(lines) + "\n"
