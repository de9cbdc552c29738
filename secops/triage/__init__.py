"""The analyst's desk: the finding status lifecycle, response-time commitments, rule health
and the feedback loop (a false positive proposes a scoped exception the judge then applies).

    open -> acknowledged -> resolved | false_positive | duplicate

Nothing here imports click; the CLI (`secops findings ...`, `secops rules health`) is a thin
layer over these functions.
"""

from secops.triage.health import RuleHealth, rule_health
from secops.triage.lifecycle import ACTIONS, CLOSED, STATUSES, TriageError, act, find
from secops.triage.propose import Proposal, accept, propose
from secops.triage.remote import push_update, remote_sink
from secops.triage.sla import DEFAULT_SLA, Sla, is_overdue, load_sla, parse_duration, timings

__all__ = [
    "ACTIONS",
    "CLOSED",
    "DEFAULT_SLA",
    "STATUSES",
    "Proposal",
    "RuleHealth",
    "Sla",
    "TriageError",
    "accept",
    "act",
    "find",
    "is_overdue",
    "load_sla",
    "parse_duration",
    "propose",
    "push_update",
    "remote_sink",
    "rule_health",
    "timings",
]
