"""The entities of a candidate finding: who acted (sources) and what was acted on (targets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from secops.correlate.candidate import Candidate


@dataclass(frozen=True)
class Target:
    asset: str | None
    ip: str | None
    port: int | None
    transport: str | None


@dataclass
class Context:
    """Everything the judge and the scorer need to know about one candidate."""

    candidate: Candidate
    evidence: pd.DataFrame
    sources: list[tuple[str | None, str | None, str | None]] = field(
        default_factory=list
    )  # (ip, asset, locality)
    targets: list[Target] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # assets that logged the (first step's) evidence

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.candidate.start, unit="ms", tz="UTC")


def _val(row: Any, name: str) -> Any:
    v = row.get(name) if hasattr(row, "get") else None
    return None if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)) else v


def build_context(candidate: Candidate, frame: pd.DataFrame, topology: Any) -> Context:
    """Sources come from the first step (or all evidence), targets from the last step."""
    evidence = frame.iloc[candidate.rows]
    steps = list(candidate.steps.values())
    first = frame.iloc[steps[0]] if steps else evidence
    last = frame.iloc[steps[-1]] if steps else evidence
    ctx = Context(candidate, evidence)
    ctx.sources = _unique(
        (_val(r, "source.ip"), _val(r, "source.asset"), _val(r, "source.locality"))
        for r in _records(first, ["source.ip", "source.asset", "source.locality"])
        if _val(r, "source.ip") or _val(r, "source.asset")
    )
    ctx.targets = _unique(
        _target(r, topology)
        for r in _records(
            last,
            [
                "destination.ip",
                "destination.asset",
                "destination.port",
                "network.transport",
                "host.asset",
            ],
        )
    )
    ctx.targets = [t for t in ctx.targets if t.asset or t.ip]
    ctx.hosts = sorted(
        {h for h in first.get("host.asset", pd.Series(dtype=object)).dropna().unique()}
    )
    return ctx


def _records(frame: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    present = [c for c in cols if c in frame.columns]
    return frame[present].drop_duplicates().to_dict("records")


def _unique(items: Any) -> list[Any]:
    out, seen = [], set()
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _target(r: dict[str, Any], topology: Any) -> Target:
    ip, asset = _val(r, "destination.ip"), _val(r, "destination.asset")
    port, transport = _val(r, "destination.port"), _val(r, "network.transport")
    if ip is None and asset is None:
        asset = _val(r, "host.asset")
        if asset is not None:
            ips = topology.ips_of_asset(asset)
            ip = ips[0] if ips else None
    return Target(asset, ip, int(port) if port is not None else None, transport)
