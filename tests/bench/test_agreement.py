"""bench.agreement: our fields against Elastic's on their published sample lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.agreement.__main__ import SAMPLES, main, measure


def test_every_device_agrees_with_elastic_on_95_percent_of_fields() -> None:
    tallies = measure()
    assert {"cisco_asa", "iptables", "suricata", "system_auth", "web"} <= set(tallies)
    for device, tally in tallies.items():
        assert tally.parsed == tally.lines, f"{device}: lines not parsed"
        assert tally.to_dict()["agreement"] >= 95.0, (device, tally.misses)


def test_a_wrong_expectation_and_an_unparsed_line_count_as_misses(tmp_path: Path) -> None:
    device = tmp_path / "web"
    shutil.copytree(SAMPLES / "web", device)
    log = device / "nginx-access.log"
    expected = device / "nginx-access.expected.jsonl"
    rows = [json.loads(x) for x in expected.read_text().splitlines()]
    rows[0]["source.ip"] = "192.0.2.1"  # Elastic says otherwise: one miss
    expected.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with log.open("a") as out:  # a line no parser knows: both its fields miss
        out.write("this is not an access log line\n")
    with expected.open("a") as out:
        out.write(json.dumps({"source.ip": "192.0.2.2", "event.outcome": "success"}) + "\n")
    tally = measure(tmp_path)["web"]
    assert (tally.lines, tally.parsed) == (10, 9)
    assert tally.fields - tally.agree == 3
    assert any("nginx-access.log:1: source.ip" in m for m in tally.misses)


def test_the_command_prints_one_row_per_device(capsys) -> None:  # noqa: ANN001
    assert main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["device", "lines", "parsed"]
    assert {line.split()[0] for line in out[1:]} >= {"cisco_asa", "iptables", "system_auth", "web"}
