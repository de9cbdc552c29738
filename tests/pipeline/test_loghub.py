"""Real data nobody here wrote: the Loghub OpenSSH sample end to end."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from secops.pipeline import run
from tests.helpers import shared

FAILED = re.compile(
    r"^(\w{3}\s+\d+ [\d:]{8}) \S+ sshd\[\d+\]: Failed (?:password|publickey|none) for .* from (\S+) port"
)


def reference_brute_forcers(path, threshold=10, window_s=300):
    """Sources with >= threshold 'Failed ...' lines within any 5-minute window, counted by hand."""
    times = defaultdict(list)
    for line in path.read_text(errors="replace").splitlines():
        m = FAILED.match(line)
        if m:
            times[m.group(2)].append(
                datetime.strptime("2025 " + m.group(1), "%Y %b %d %H:%M:%S").timestamp()
            )
    found = set()
    for ip, ts in times.items():
        ts.sort()
        j = 0
        for i, t in enumerate(ts):
            while ts[j] <= t - window_s:
                j += 1
            if i - j + 1 >= threshold:
                found.add(ip)
    return found


def test_openssh_brute_force_sources_are_found():
    log = shared("loghub", "OpenSSH", "OpenSSH_2k.log")
    result = run([str(log)], year=2025)
    assert result.report.dead_lettered == 0
    assert result.report.parsed == 2000
    raised = {f["source"]["ip"] for f in result.raised if f["rule"]["id"] == "ssh-brute-force"}
    want = reference_brute_forcers(log)
    assert raised == want
    # the sources the dataset's provenance names as the heaviest
    assert {"183.62.140.253", "187.141.143.180", "103.99.0.122", "112.95.230.3"} <= raised
    for f in result.raised:
        assert f["event"]["kind"] == "alert"
        assert f["finding"]["evidence"]["count"] >= 1
        assert "T1110" in f["threat"]["technique"]["id"][0]


def test_rerun_gives_the_same_finding_ids():
    log = shared("loghub", "OpenSSH", "OpenSSH_2k.log")
    first = [f["finding"]["id"] for f in run([str(log)], year=2025).findings]
    second = [f["finding"]["id"] for f in run([str(log)], year=2025).findings]
    assert first == second and len(set(first)) == len(first)
    assert len(first) >= len(reference_brute_forcers(log)) > 0  # one finding per brute forcer
