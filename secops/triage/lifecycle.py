"""The finding status lifecycle: open -> acknowledged -> resolved | false_positive | duplicate.

Each action records who, when and why in the finding's triage history; the first action that
leaves `open` stamps `acknowledged_at` (time to acknowledge), the one that closes it stamps
`closed_at` (time to resolve). A closed finding can be reopened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from secops.errors import SecopsError

STATUSES = ("open", "acknowledged", "resolved", "false_positive", "duplicate")
CLOSED = ("resolved", "false_positive", "duplicate")
#: action -> (status it leads to, statuses it may start from)
ACTIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "ack": ("acknowledged", ("open",)),
    "resolve": ("resolved", ("open", "acknowledged")),
    "false-positive": ("false_positive", ("open", "acknowledged")),
    "duplicate": ("duplicate", ("open", "acknowledged")),
    "reopen": ("open", CLOSED),
    "assign": (None, STATUSES),  # keeps the status
    "note": (None, STATUSES),
}


class TriageError(SecopsError):
    """A triage action that the lifecycle does not allow, or an unknown finding."""


def act(
    store: Any,
    finding_id: str,
    action: str,
    *,
    analyst: str,
    note: str | None = None,
    assignee: str | None = None,
    duplicate_of: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Apply one action to a finding in the store; returns the updated finding document."""
    doc = find(store, finding_id)
    fi = doc["finding"]
    status, tri = fi.get("status", "open"), fi.get("triage") or {}
    to, allowed_from = ACTIONS[action]
    if status not in allowed_from:
        raise TriageError(
            f"cannot {action} finding {fi['id'][:10]}: it is {status} "
            f"({action} applies to {', '.join(allowed_from)})"
        )
    at = (now or datetime.now(UTC)).isoformat()
    new = to or status
    changes: dict[str, Any] = {}
    if new != "open" and not tri.get("acknowledged_at"):
        changes["acknowledged_at"] = at
    if new in CLOSED:
        changes["closed_at"] = at
    elif action == "reopen":
        changes["closed_at"] = None
    if action == "assign":
        changes["assignee"] = assignee
    if duplicate_of:
        changes["duplicate_of"] = _resolve(store, duplicate_of, fi["id"])
    event = {"at": at, "analyst": analyst, "action": action, "from": status, "to": new}
    if note:
        event["note"] = note
    if assignee:
        event["assignee"] = assignee
    if duplicate_of:
        event["of"] = changes["duplicate_of"]
    store.set_triage(fi["id"], new, changes, event)
    return store.get(fi["id"])


def find(store: Any, ref: str, what: str = "") -> dict[str, Any]:
    """The finding whose id is `ref` or starts with it; else why not (none, or which ones
    an ambiguous prefix matches)."""
    doc = store.get(ref)
    if doc is not None:
        return doc
    ids = store.ids_starting(ref) if hasattr(store, "ids_starting") else []
    if len(ids) > 1:
        shown = ", ".join(f"{i[:10]}..." for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise TriageError(f"{what}ambiguous id prefix '{ref}': {shown} (give more characters)")
    raise TriageError(
        f"{what}no finding with id or unique prefix '{ref}' (see 'secops findings list --all')"
    )


def _resolve(store: Any, ref: str, own: str) -> str:
    other = find(store, ref, "--of: ")
    if other["finding"]["id"] == own:
        raise TriageError("a finding cannot be a duplicate of itself")
    return other["finding"]["id"]
