"""The bench families: seeded, with the planted episodes in them, the shares and layout their
docstrings promise, and a ground truth that one secops run meets exactly (small sizes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import corpus, families, truth
from secops.pipeline import run

LINES = 5_000
NOW = datetime(2026, 12, 31, tzinfo=UTC)


def _text(out: Path) -> str:
    return "".join(p.read_text() for p in families.inputs_of(out))


def _stamp(line: str) -> datetime | None:
    if not line[:3].isalpha():
        return None
    return datetime.strptime(f"2026 {line[:15]}", "%Y %b %d %H:%M:%S")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, corpus.Truth]]:
    folder = tmp_path_factory.mktemp("families")
    return {
        name: (folder / name, families.generate(folder / name, name, LINES, seed=3))
        for name in families.FAMILIES
    }


@pytest.mark.parametrize("name", sorted(families.FAMILIES))
def test_planted_episodes_and_line_count(made, name: str) -> None:
    out, t = made[name]
    text = _text(out)
    assert text.count("\n") == LINES
    raised = {(r["rule"], r.get("source.ip") or r.get("user.name")) for r in t.raised}
    assert len(t.raised) == 33 + (name == "episode") and len(t.decoys) == 25 and len(t.cut) == 1
    for rule, key in raised:
        if rule == "ssh-brute-force":
            want = LINES // 2 if key == "198.51.100.250" else 12
            assert text.count(f"Failed password for root from {key} ") == want
        elif rule == "port-scan-vertical":
            assert len(re.findall(rf"(?:SRC=|outside:){re.escape(key)}[ /]", text)) == 20
        else:
            assert text.count(f"ruser={key} rhost=  user={key}\n") == 2
            assert f"{key} : TTY=pts/3 ; PWD=/home/{key} ; USER=root ; COMMAND=/bin/bash" in text
    for decoy in t.decoys:
        if decoy["rule"] == "privilege-escalation-after-failures":
            user = decoy["user.name"]
            assert text.count(f"ruser={user} rhost=  user={user}\n") == 1


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = (tmp_path / x for x in "abc")
    for path, seed in ((a, 1), (b, 1), (c, 2)):
        families.generate(path, "dense", 3_000, seed)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_dense_shares(made) -> None:
    out, _ = made["dense"]
    planted = re.compile(r"198\.51\.100\.|203\.0\.113\.|mallory|SRC=10\.0\.0\.19 ")
    lines = [x for x in out.read_text().splitlines() if not planted.search(x)]  # background
    assert len(lines) > LINES * 0.8
    share = {
        "apache": sum(not x[:3].isalpha() for x in lines),
        "asa": sum(" asa01 %ASA-" in x for x in lines),
        "netfilter": sum(" fw01 kernel: " in x for x in lines),
        "sshd": sum(" sshd[" in x for x in lines),
        "accepted": sum(": Accepted publickey for " in x for x in lines),
        "pam": sum("pam_unix(sudo:auth): authentication failure" in x for x in lines),
        "sudo": sum(" sudo: " in x for x in lines),
    }
    want = {"apache": 0.30, "asa": 0.26, "netfilter": 0.20, "sshd": 0.095, "sudo": 0.025}
    for kind, w in want.items():
        assert abs(share[kind] / len(lines) - w) < 0.02 + w * 0.1, kind
    assert 0.01 < share["accepted"] / len(lines) < 0.02
    assert 0.08 < share["pam"] / share["sudo"] < 0.3
    hosts = {x.split()[3] for x in lines if x[:3].isalpha() and " sudo: " in x}
    assert len(hosts) <= 8
    stamps = [s for s in map(_stamp, lines) if s]
    assert (max(stamps) - min(stamps)).total_seconds() <= 4 * 3600 + 600


def test_time_order_and_layout(made) -> None:
    """Every family in time order, but out-of-order: a file per device, each over the whole
    day, and a relay whose servers' clocks are at most 2 minutes apart."""
    for name, (out, _) in made.items():
        files = families.inputs_of(out)
        assert len(files) == (4 if name == "out-of-order" else 1)
        for path in files:
            stamps = [s for s in map(_stamp, path.read_text().splitlines()) if s]
            if not stamps:
                continue  # web.log: Apache lines
            back = max((max(stamps[: i + 1]) - s).total_seconds() for i, s in enumerate(stamps))
            assert back <= (120 if path.name == "relay.log" else 0), (name, path.name)
            if name == "out-of-order":
                assert (max(stamps) - min(stamps)).total_seconds() > 20 * 3600
    relay = (made["out-of-order"][0] / "relay.log").read_text().splitlines()
    disorder = [
        (max(a, b) - min(a, b)).total_seconds()
        for a, b in zip(map(_stamp, relay), map(_stamp, relay[1:]), strict=False)
        if a and b and a > b
    ]
    assert disorder and max(disorder) > 60


@pytest.mark.parametrize("name", sorted(families.FAMILIES))
def test_one_run_meets_the_truth(made, tmp_path: Path, name: str) -> None:
    out, _ = made[name]
    topology = corpus.write_topology(tmp_path / "topology", 10, 1, seed=3)
    result = run(
        [str(p) for p in families.inputs_of(out)], topology_path=str(topology), year=2026,
        now=NOW, workers=1, step_rows=0,
    )  # fmt: skip
    found = [
        {"rule": f["rule"]["id"], **{k: _get(f, k) for k in _fields(f["rule"]["id"])}}
        for f in result.findings
    ]
    raised = [f for f, doc in zip(found, result.findings, strict=True) if not _cut(doc)]
    cut = [f for f, doc in zip(found, result.findings, strict=True) if _cut(doc)]
    verdict = truth.check(truth.load_truth(corpus.truth_path(out)), raised, cut)
    assert verdict.exact, verdict.text()


def _fields(rule: str) -> tuple[str, ...]:
    return truth.KEYS.get(rule, ())


def _get(doc: dict, dotted: str) -> str | None:
    a, b = dotted.split(".")
    return doc.get(a, {}).get(b)


def _cut(doc: dict) -> bool:
    return bool(doc["finding"]["suppressed"])
