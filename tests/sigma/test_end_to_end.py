"""Sigma rules through the whole pipeline (`secops.pipeline.run`): real files in, findings out."""

from __future__ import annotations

import shutil

from secops.pipeline import run
from tests.helpers import REPO
from tests.sigma.conftest import DATASETS, SIGMA, needs_data


def _titles(result) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in result.raised:
        out[f["rule"]["name"]] = out.get(f["rule"]["name"], 0) + 1
    return out


def test_sigma_keyword_rule_sees_the_message_column(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kw.yml").write_text(
        "title: OpenSSH fatal\nid: 0b5e0c6e-8c8f-4a34-9a6e-2f4a4b1f3c21\n"
        "logsource: {product: linux, service: sshd}\n"
        "detection: {keywords: ['buffer_get_string: bad string'], condition: keywords}\n"
        "level: medium\n"
    )
    log = tmp_path / "auth.log"
    log.write_text(
        "Nov 20 10:00:00 web01 sshd[1]: fatal: buffer_get_string: bad string\n"
        "Nov 20 10:00:01 web01 sshd[2]: Accepted password for alice from 10.0.0.5 port 1 ssh2\n"
    )
    result = run([str(log)], rules_paths=[str(rules)], year=2026)
    assert _titles(result) == {"OpenSSH fatal": 1}


@needs_data
def test_otrf_lateral_movement_recordings(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules" / "sigma", rules / "ours")
    shutil.copy(
        SIGMA
        / "sigmahq/rules/windows/builtin/security/win_security_smb_file_creation_admin_shares.yml",
        rules,
    )
    covenant = next(DATASETS.glob("covenant_copy_smb_CreateRequest_*.json"))
    schtask = next(DATASETS.glob("schtask_create_*.json"))
    found = _titles(run([str(covenant), str(schtask)], rules_paths=[str(rules)]))
    assert found == {
        "SMB Create Remote File Admin Share": 1,  # the 5145 write (0x2) to C$
        "Admin Share Access In A Network Logon Session": 1,  # 4624 type 3 + 5140 C$, one logon id
        "Remote Scheduled Task Created In A Network Logon Session": 1,  # 4624 -> 4698, 26 ms
    }
    result = run([str(schtask)], rules_paths=[str(rules)])
    [task] = result.raised
    assert task["threat"]["technique"]["id"] == ["T1053.005"]
    assert task["source"]["ip"] == "172.18.39.5" and task["user"]["name"] == "pgustavo"
    assert task["finding"]["evidence"]["count"] == 2
