from __future__ import annotations

import copy
import json
import os
from typing import Any

from tests.schedule import daylogs

REPO = daylogs.REPO
TOPOLOGY = str(REPO / "topology" / "example")
#: hours of the synthetic day the equivalence proof covers: 3 in CI (36 five-minute runs);
#: SECOPS_TEST_DAY_HOURS=24 gives the full 288-run proof (about 1.5 s per run on 2 busy cores)
HOURS = float(os.environ.get("SECOPS_TEST_DAY_HOURS", "3"))


def comparable(f: dict[str, Any]) -> dict[str, Any]:
    """A finding document without what legitimately differs between stores (triage fields)."""
    f = copy.deepcopy(f)
    f["finding"].pop("status", None)
    f["finding"].pop("first_seen", None)
    f["finding"].pop("triage", None)
    ev = f["finding"]["evidence"]
    # the first 100 ids of a bigger episode depend on the order of events of the same instant
    # (file order in a batch run, event id in the spool): only their number is comparable then
    ev["event_ids"] = sorted(ev["event_ids"]) if ev["count"] <= 100 else len(ev["event_ids"])
    topo = f["finding"].get("topology", {})
    if isinstance(topo.get("targets"), list):  # listed in order of appearance: same caveat
        topo["targets"] = sorted(topo["targets"], key=lambda t: json.dumps(t, sort_keys=True))
    return json.loads(json.dumps(f, sort_keys=True, default=str))


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (dotted paths), for readable assertion messages."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k), b.get(k), f"{path}.{k}")
        return out
    return [] if a == b else [f"{path}: {str(a)[:200]} != {str(b)[:200]}"]
