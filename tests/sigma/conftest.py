"""Shared helpers for the Sigma tests: load Sigma YAML text, build event frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from secops.correlate import correlate
from secops.examples import expand
from secops.normalise import iter_events
from secops.sigma.load import SigmaLoad, load_sigma
from tests.helpers import SHARED_DATA, shared

DATA = SHARED_DATA
SIGMA = DATA / "sigma-rules"
DATASETS = DATA / "security-datasets" / "lateral_movement"
#: the SigmaHQ rules this suite was written against (../shared/data/sigma-rules/PROVENANCE.md);
#: the folder now holds the whole repository, so the tests pick them out
CHOSEN = [
    "rules/linux/builtin/sshd/lnx_sshd_susp_ssh.yml",
    "rules/linux/builtin/lnx_privileged_user_creation.yml",
    "rules/linux/builtin/lnx_shell_susp_log_entries.yml",
    "rules/network/firewall/net_firewall_cleartext_protocols.yml",
    "rules/network/zeek/zeek_smb_converted_win_susp_psexec.yml",
    "rules/windows/builtin/security/win_security_admin_share_access.yml",
    "rules/windows/builtin/security/win_security_smb_file_creation_admin_shares.yml",
    "rules/windows/builtin/security/win_security_svcctl_remote_service.yml",
    "rules/windows/builtin/security/win_security_susp_logon_explicit_credentials.yml",
    "rules/windows/builtin/security/account_management/win_security_susp_failed_logon_source.yml",
    "unsupported/linux/lnx_auth_susp_failed_logons_single_source.yml",
    "unsupported/network/net_firewall_susp_network_scan_by_ip.yml",
    "unsupported/network/net_firewall_susp_network_scan_by_port.yml",
    "unsupported/windows/win_security_susp_failed_logons_single_source.yml",
    "unsupported/windows/win_remote_schtask.yml",
    "deprecated/other/generic_brute_force.yml",
]


@pytest.fixture(scope="session")
def sigma_data() -> None:
    """The SigmaHQ rules and the OTRF recordings under ../shared/data (see tests.helpers.shared)."""
    shared("sigma-rules")
    shared("security-datasets", "lateral_movement")


needs_data = pytest.mark.usefixtures("sigma_data")


def load_text(tmp_path: Path, text: str, name: str = "rule.yml", **kw: Any) -> SigmaLoad:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_sigma([path], **kw)


def frame(events: list[dict[str, Any]]) -> pd.DataFrame:
    """Abbreviated events (flat ECS keys, `repeat`/`every`/`vary` as in rule examples)."""
    return expand(events)


def parsed(tmp_path: Path, lines: list[str], name: str = "input.log") -> pd.DataFrame:
    """Raw lines through the real collectors (secops.normalise), `message` kept."""
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pd.concat(list(iter_events([str(path)], year=2026)), ignore_index=True)


def windows(tmp_path: Path, docs: list[dict[str, Any]]) -> pd.DataFrame:
    """Windows events as NXLog-style JSON lines through the winlog collector."""
    base = {
        "Channel": "Security",
        "SourceName": "Microsoft-Windows-Security-Auditing",
        "Hostname": "WORKSTATION6.theshire.local",
        "@timestamp": "2026-11-20T10:00:00Z",
    }
    lines = [json.dumps({**base, **d}) for d in docs]
    return parsed(tmp_path, lines, "windows.json")


def fired(load: SigmaLoad, events: pd.DataFrame) -> dict[str, list[int]]:
    """Rule title -> sorted frame rows of the evidence of every candidate."""
    out: dict[str, list[int]] = {}
    for c in correlate(events, load.rules):
        out.setdefault(c.rule.title, []).extend(int(r) for r in c.rows)
    return {k: sorted(set(v)) for k, v in out.items()}


def verdicts(load: SigmaLoad) -> dict[str, Any]:
    return {v.title or v.id: v for v in load.verdicts}
