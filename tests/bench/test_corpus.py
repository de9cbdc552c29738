"""The bench corpus generator is deterministic and the ground-truth checker judges right."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench import corpus, truth


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.log", tmp_path / "b.log", tmp_path / "c.log"
    corpus.generate(a, 3000, seed=3)
    corpus.generate(b, 3000, seed=3)
    corpus.generate(c, 3000, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert corpus.truth_path(a).read_text() == corpus.truth_path(b).read_text()
    assert len(a.read_text().splitlines()) == 3000


def test_lines_in_time_order_with_the_episodes(tmp_path: Path) -> None:
    path = tmp_path / "c.log"
    t = corpus.generate(path, 2000, seed=1)
    text = path.read_text()
    assert len(t.raised) == 30 and len(t.decoys) == 23 and len(t.cut) == 1
    assert text.count("Failed password for root from 198.51.100.10 ") == 12
    assert "%ASA-4-106023: Deny tcp src outside:203.0.113.11/" in text


def test_topology_keeps_the_first_ten_assets(tmp_path: Path) -> None:
    small = corpus.write_topology(tmp_path / "s", 10, 1, seed=5)
    big = corpus.write_topology(tmp_path / "b", 200, 30, seed=5)
    first = (small / "assets.yaml").read_text().splitlines()[:11]
    assert (big / "assets.yaml").read_text().splitlines()[:11] == first
    assert (big / "zones.yaml").read_text().count("name: z") == 30


def _truth() -> dict:
    return {
        "raised": [{"rule": "ssh-brute-force", "source.ip": "1.1.1.1"}],
        "decoys": [{"rule": "ssh-brute-force", "source.ip": "2.2.2.2"}],
        "cut": [
            {"rule": "port-scan-vertical", "source.ip": "10.0.0.19", "destination.ip": "10.0.0.10"}
        ],
    }


def test_checker_exact_and_wrong() -> None:
    hit = {"rule": "ssh-brute-force", "source.ip": "1.1.1.1"}
    decoy = {"rule": "ssh-brute-force", "source.ip": "2.2.2.2"}
    scan = {"rule": "port-scan-vertical", "source.ip": "10.0.0.19", "destination.ip": "10.0.0.10"}
    assert truth.check(_truth(), [hit], [scan]).exact
    v = truth.check(_truth(), [hit, decoy], [scan])
    assert not v.exact and v.decoys_raised == [("ssh-brute-force", "2.2.2.2")]
    assert not truth.check(_truth(), [], [scan]).exact  # missed
    assert not truth.check(_truth(), [hit], []).exact  # the scanner was not cut
    assert not truth.check(_truth(), [hit, {"rule": "lateral-movement"}], [scan]).exact
    peer = truth.check(_truth(), [hit, scan])  # no topology: the scanner's scan is no error
    assert peer.exact and peer.scanner_raised == 1


def test_sec_output_parsed() -> None:
    out = "ssh-brute-force source.ip=1.1.1.1\nport-scan-vertical source.ip=3.3.3.3 destination.ip=10.0.0.10\n"
    found = truth.sec_findings(out)
    assert found[1] == {
        "rule": "port-scan-vertical",
        "source.ip": "3.3.3.3",
        "destination.ip": "10.0.0.10",
    }
    assert not truth.check(_truth(), found).exact  # 3.3.3.3 was never planted
