"""The asset topology: zones, assets, firewall policy and change windows as a graph.

Rules and the judge ask it questions (`Topology.exposes`, `can_reach`, `in_change_window`,
`path_to_crown_jewel`...); each answer carries a reason the engine records on the finding.
Content format: topology/README.md.
"""

from secops.topology.load import load_topology
from secops.topology.model import (
    CRITICALITY_LEVELS,
    CRITICALITY_RANK,
    DEFAULT_CRITICALITY,
    UNKNOWN_CRITICALITY,
    WELL_KNOWN_TAGS,
    Answer,
    Asset,
    ChangeWindow,
    Policy,
    Service,
    Zone,
)
from secops.topology.topology import Topology

__all__ = [
    "CRITICALITY_LEVELS",
    "CRITICALITY_RANK",
    "DEFAULT_CRITICALITY",
    "UNKNOWN_CRITICALITY",
    "WELL_KNOWN_TAGS",
    "Answer",
    "Asset",
    "ChangeWindow",
    "Policy",
    "Service",
    "Topology",
    "Zone",
    "load_topology",
]
