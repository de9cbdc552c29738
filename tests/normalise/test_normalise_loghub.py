"""Real logs from loghub and Suricata sample data (../shared/data, skipped when absent)."""

from __future__ import annotations

import json
import re

import pandas as pd

from tests.helpers import shared


def _template_values(template: str, content: str) -> list[str] | None:
    parts = [re.escape(p) for p in template.split("<*>")]
    m = re.fullmatch("(.*?)".join(parts), content.strip())
    return list(m.groups()) if m else None


def test_openssh_2k_every_line_parses(run) -> None:
    log = shared("loghub", "OpenSSH", "OpenSSH_2k.log")
    events, report = run([str(log)])
    assert report.lines_read == 2000
    assert report.dead_lettered == 0, report.to_dict()
    assert report.coverage[str(log)] == {"sshd": 2000, "unparsed": 0}
    assert len(events) == 2000 and events["event.id"].is_unique


def test_openssh_2k_agrees_with_structured_csv(run) -> None:
    log = shared("loghub", "OpenSSH", "OpenSSH_2k.log")
    truth = pd.read_csv(shared("loghub", "OpenSSH", "OpenSSH_2k.log_structured.csv"))
    events, _ = run([str(log)], year=2025)
    assert (events["host.name"].astype(str).to_numpy() == truth["Component"].to_numpy()).all()
    assert (events["process.pid"].astype(int).to_numpy() == truth["Pid"].to_numpy()).all()
    stamp = pd.to_datetime(
        "2025 " + truth["Date"] + " " + truth["Day"].astype(str) + " " + truth["Time"],
        format="%Y %b %d %H:%M:%S",
        utc=True,
    )
    assert (events["@timestamp"].to_numpy() == stamp.to_numpy()).all()
    for (_, ev), (_, want) in zip(events.iterrows(), truth.iterrows(), strict=True):
        values = _template_values(want["EventTemplate"], want["Content"])
        assert values is not None, want["Content"]
        joined = " ".join(values)
        if pd.notna(ev["source.ip"]):
            assert ev["source.ip"] in joined, (ev["source.ip"], want["Content"])
        if pd.notna(ev["user.name"]):
            known = values + re.split(r"[\s=]+", want["EventTemplate"])  # templates may spell it
            assert ev["user.name"] in known, (ev["user.name"], want["Content"])
        if " from <*> port <*>" in want["EventTemplate"]:
            assert pd.notna(ev["source.ip"]), want["Content"]
        if want["EventTemplate"].startswith(
            ("Accepted password for <*>", "Failed password for <*>")
        ):
            assert ev["user.name"] == values[0]


def test_openssh_2k_vocabulary(run) -> None:
    events, _ = run([str(shared("loghub", "OpenSSH", "OpenSSH_2k.log"))])
    by_action = events.groupby("event.action", observed=True).size().to_dict()
    assert by_action["ssh_login"] > 0 and by_action["pam_auth_failure"] > 0
    failed = events["message"].str.startswith("Failed password")
    assert set(events.loc[failed, "event.action"]) == {"ssh_login"}
    preauth = events["message"].str.contains(r"\[preauth\]$") & events["message"].str.startswith(
        ("Connection closed", "Received disconnect")
    )
    assert set(events.loc[preauth, "event.category"]) == {"network"}


def test_linux_2k_ssh_and_su_parse(run) -> None:
    log = shared("loghub", "Linux", "Linux_2k.log")
    events, report = run([str(log)], dead_letter=None)
    raw = log.read_text(encoding="utf-8", errors="replace").splitlines()
    wanted = sum(1 for line in raw if " sshd(pam_unix)[" in line or " su(pam_unix)[" in line)
    ours = events[events["event.dataset"].isin(["sshd", "su"])]
    assert len(ours) == wanted == 677 + 172
    coverage = report.coverage[str(log)]
    print("Linux_2k coverage:", json.dumps(coverage, sort_keys=True))
    assert coverage["sshd"] == 677 and coverage["su"] == 172
    assert report.lines_read == report.parsed + report.dead_lettered + report.blank
    legacy = events[events["message"].str.startswith("authentication failure;", na=False)]
    assert set(legacy["event.action"]) == {"ssh_login"}
    assert legacy["source.ip"].notna().sum() + legacy["source.domain"].notna().sum() == len(legacy)


def test_suricata_alerts_only_all_parse(run) -> None:
    folder = shared("suricata-sample-data")
    files = sorted(folder.glob("*/alerts-only.json"))
    assert files
    for path in files:
        expected = len(json.loads(path.read_text()))
        events, report = run([str(path)])
        assert report.dead_lettered == 0, report.to_dict()
        assert len(events) == expected
        assert set(events["event.action"]) == {"ids_alert"}
        assert events["rule.name"].notna().all() and events["source.ip"].notna().all()
        assert events["@timestamp"].notna().all()
