"""secops.synth: determinism, variety, well-formed lines, complete ground truth, ordered files.

These tests check the generator's output on its own; running the correlation engine on it is
tested elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from secops.synth import DEFAULT_START, generate
from secops.synth.__main__ import main as synth_main

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY = REPO / "topology" / "example"
SMALL = {"hours": 6, "noise_per_hour": 300}

# ---- line formats -------------------------------------------------------------------------

IP = r"\d{1,3}(?:\.\d{1,3}){3}"
BSD_TS = r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)"
SYSLOG = re.compile(
    BSD_TS + r" (?P<host>[\w.-]+) (?P<tag>[A-Za-z]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.+)$"
)
ISO_SYSLOG = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (?P<host>[\w.-]+) (?P<tag>[A-Za-z]+)(?:\[\d+\])?: (?P<msg>.+)$"
)
PORT = r"\d{1,5}"
SSHD = [
    rf"Failed password for (?:invalid user )?[\w.-]+ from {IP} port {PORT} ssh2",
    rf"Failed publickey for [\w.-]+ from {IP} port {PORT} ssh2",
    rf"Invalid user [\w.-]+ from {IP} port {PORT}",
    rf"pam_unix\(sshd:auth\): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={IP}(?:  user=[\w.-]+)?",
    rf"Accepted password for [\w.-]+ from {IP} port {PORT} ssh2",
    rf"Accepted publickey for [\w.-]+ from {IP} port {PORT} ssh2: (?:RSA|ED25519|ECDSA) SHA256:[A-Za-z0-9+/]{{43}}",
    r"pam_unix\(sshd:session\): session opened for user [\w.-]+\(uid=\d+\) by \(uid=0\)",
    r"pam_unix\(sshd:session\): session closed for user [\w.-]+",
    rf"Received disconnect from {IP} port {PORT}:11: (?:Bye Bye \[preauth\]|disconnected by user)",
    rf"Connection closed by (?:(?:authenticating|invalid) user [\w.-]+ )?{IP} port {PORT} \[preauth\]",
    rf"Disconnected from user [\w.-]+ {IP} port {PORT}",
]
SUDO = [
    r"[\w.-]+ : TTY=pts/\d+ ; PWD=/\S* ; USER=root ; COMMAND=/.+",
    r"[\w.-]+ : 3 incorrect password attempts ; TTY=pts/\d+ ; PWD=/\S* ; USER=root ; COMMAND=/.+",
    r"pam_unix\(sudo:auth\): authentication failure; logname=(\w+) uid=\d+ euid=0 tty=/dev/pts/\d+ ruser=\1 rhost=  user=\1",
    r"pam_unix\(sudo:session\): session opened for user root\(uid=0\) by [\w.-]+\(uid=\d+\)",
    r"pam_unix\(sudo:session\): session closed for user root",
]
SU = [
    r"pam_unix\(su:session\): session opened for user root\(uid=0\) by [\w.-]+\(uid=\d+\)",
    r"pam_unix\(su:session\): session closed for user root",
]
CRON = [
    r"pam_unix\(cron:session\): session (?:opened|closed) for user [\w-]+(?:\(uid=\d+\) by \(uid=0\))?"
]
AUTH = {"sshd": SSHD, "sudo": SUDO, "su": SU, "CRON": CRON}
KERN = re.compile(
    rf"\[\s*\d+\.\d{{6}}\] (?:FW-DROP|\[UFW BLOCK\]|IPTABLES-ACCEPT:) IN=eth0 OUT= MAC=(?:[0-9a-f]{{2}}:){{13}}[0-9a-f]{{2}} "
    rf"SRC={IP} DST={IP} LEN=\d+ TOS=0x00 PREC=0x00 TTL=\d+ ID=\d+ (?:DF )?PROTO=(?:TCP|UDP) SPT={PORT} DPT={PORT}"
    r"(?: WINDOW=\d+ RES=0x00 (?:SYN|ACK) URGP=0| LEN=\d+)$"
)
IFACE = r"(?:outside|inside|dmz|servers|mgmt)"
ASA = {
    "106023": rf'Deny tcp src {IFACE}:{IP}/{PORT} dst {IFACE}:{IP}/{PORT} by access-group "\w+" \[0x0, 0x0\]',
    "106100": rf"access-list \w+ denied tcp {IFACE}/{IP}\({PORT}\) -> {IFACE}/{IP}\({PORT}\) hit-cnt 1 first hit \[0x0, 0x0\]",
    "302013": rf"Built inbound TCP connection \d+ for {IFACE}:{IP}/{PORT} \({IP}/{PORT}\) to {IFACE}:{IP}/{PORT} \({IP}/{PORT}\)",
    "302014": rf"Teardown TCP connection \d+ for {IFACE}:{IP}/{PORT} to {IFACE}:{IP}/{PORT} duration \d+:\d\d:\d\d bytes \d+ (?:TCP FINs|TCP Reset-O)",
    "710003": rf"TCP access denied by ACL from {IP}/{PORT} to outside:{IP}/{PORT}",
}
ASA_LINE = re.compile(BSD_TS + r" (?P<host>[\w.-]+) %ASA-(?P<sev>\d)-(?P<code>\d{6}): (?P<msg>.+)$")
ACCESS = re.compile(
    rf'(?P<ip>{IP}) - - \[(?P<ts>\d\d/[A-Z][a-z]{{2}}/\d{{4}}:\d\d:\d\d:\d\d \+0000)\] "(?:GET|POST) \S+ HTTP/1\.1" '
    r'(?P<status>\d{3}) (?:\d+|-) "[^"]*" "[^"]+"$'
)
EVE_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$")


def _bsd(ts: str, year: int = 2026) -> datetime:
    return datetime.strptime(f"{year} {ts}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)


def _time_of(kind: str, line: str) -> datetime:
    if kind == "eve":
        return datetime.strptime(json.loads(line)["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    if kind == "access":
        return datetime.strptime(ACCESS.match(line)["ts"], "%d/%b/%Y:%H:%M:%S %z")
    m = (ASA_LINE if kind == "asa" else SYSLOG).match(line)
    return _bsd(m["ts"])


def _kind(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    return {
        "auth.log": "auth",
        "kern.log": "kern",
        "asa.log": "asa",
        "eve.json": "eve",
        "access.log": "access",
    }[name]


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed7")
    sc = generate(out, topology_path=TOPOLOGY, seed=7, **SMALL)
    return out, sc


@pytest.fixture(scope="module")
def expected(seven):
    out, _ = seven
    return yaml.safe_load((out / "expected.yaml").read_text())


# ---- determinism and variety -------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(seven, tmp_path):
    out, sc = seven
    again = generate(tmp_path / "again", topology_path=TOPOLOGY, seed=7, **SMALL)
    assert _files(out) == _files(tmp_path / "again")
    assert again.lines == sc.lines
    assert [e.to_dict() for e in again.expected] == [e.to_dict() for e in sc.expected]


def test_scenario_result_matches_the_files(seven):
    out, sc = seven
    assert sc.files and all(p.is_file() for p in sc.files)
    assert sc.lines == sum(len(p.read_text().splitlines()) for p in sc.files)
    assert sc.start == DEFAULT_START and sc.end == DEFAULT_START + timedelta(hours=6)
    # noise volume is about noise_per_hour x hours, plus the story
    assert 300 * 6 <= sc.lines <= 300 * 6 + 1500


def _attackers(exp: dict) -> dict[str, str]:
    return {e["story"]: e.get("source.ip") for e in exp["expectations"] if e.get("source.ip")}


def test_different_seeds_tell_different_stories(tmp_path, expected):
    stories = [expected]
    for seed in (8, 9, 10, 11):
        generate(
            tmp_path / str(seed), topology_path=TOPOLOGY, seed=seed, hours=6, noise_per_hour=50
        )
        stories.append(yaml.safe_load((tmp_path / str(seed) / "expected.yaml").read_text()))
    external = [
        {
            s: ip
            for s, ip in _attackers(x).items()
            if ipaddress.ip_address(ip).is_global or ip.startswith(("203.0.113.", "198.51.100."))
        }
        for x in stories
    ]
    for a in range(len(external)):
        for b in range(a + 1, len(external)):
            same = [s for s in external[a] if external[a][s] == external[b].get(s)]
            # TEST-NET draws may collide by chance (2 x 253 addresses); the story as a whole must not
            assert len(same) <= 1 and "1" not in same, (
                f"stories {same} keep their attacker IP across seeds"
            )
            assert len(set(external[a].values()) & set(external[b].values())) <= 2
    by = lambda x, story, key: next(e.get(key) for e in x["expectations"] if e["story"] == story)  # noqa: E731
    assert len({by(x, "1", "host") for x in stories}) > 1, "the brute-force victim never changes"
    assert len({by(x, "2", "user") for x in stories}) > 1, "the compromised account never changes"
    assert len({by(x, "9", "user") for x in stories}) > 1, "the insider never changes"
    assert len({str(by(x, "1", "note")) for x in stories}) > 1


def test_attacker_ips_are_public_and_varied(expected):
    ips = sorted(
        {
            e["source.ip"]
            for e in expected["expectations"]
            if e.get("source.ip") and not e["source.ip"].startswith("10.")
        }
    )
    assert len(ips) >= 10  # one per external actor (stories 1-4 share theirs)
    for ip in ips:
        a = ipaddress.ip_address(ip)
        test_net = ip.startswith(("203.0.113.", "198.51.100."))
        assert test_net or a.is_global, ip
        assert (
            a not in ipaddress.ip_network("100.64.0.0/10")
            and not a.is_loopback
            and not a.is_multicast
        )
    assert len({ip.split(".")[0] for ip in ips}) >= 3, "draw from several /8s"


# ---- ground truth --------------------------------------------------------------------------

STORIES = {
    "1": ("ssh-brute-force", "raised", "T1110"),
    "2": ("ssh-brute-force-then-login", "raised", "T1110"),
    "3": ("privilege-escalation-after-login", "raised", "T1548"),
    "4": ("lateral-movement", "raised", "T1021"),
    "5": ("port-scan-vertical", "raised", "T1046"),
    "6": ("port-sweep-horizontal", "raised", "T1046"),
    "7": ("exploit-public-service", "raised", "T1190"),
    "8": ("ssh-password-spraying", "raised", "T1110.003"),
    "9": ("privilege-escalation-after-failures", "raised", "T1548"),
    "10": ("port-scan-vertical", "cut", "T1046"),
    "11": ("ssh-brute-force", "cut", "T1110"),
    "12": ("lateral-movement", "cut", "T1021"),
    "13": ("privilege-escalation-after-failures", "cut", "T1548"),
    "14a": ("exploit-public-service", "cut", "T1190"),
    "14b": ("exploit-public-service", "cut", "T1190"),
    "N1": ("any", "none", None),
    "N2": ("any", "none", None),
    "N3": ("any", "none", None),
    "N4": ("any", "none", None),
}


def test_expected_yaml_is_complete(expected):
    assert expected["seed"] == 7 and expected["start"] == "2026-11-20T00:00:00Z"
    got = {str(e["story"]): e for e in expected["expectations"]}
    assert set(got) == set(STORIES)
    for story, (rule, outcome, technique) in STORIES.items():
        e = got[story]
        assert (e["rule"], e["outcome"], e.get("technique")) == (rule, outcome, technique), story
        assert e.get("source.ip") or e.get("host"), f"story {story} names no entity"
        if outcome == "cut":
            assert e.get("reason_contains"), story
    reasons = {s: got[s]["reason_contains"] for s in ("10", "11", "12", "13", "14a", "14b")}
    assert reasons == {
        "10": "authorized scanner",
        "11": "monitoring",
        "12": "jump host",
        "13": "change window",
        "14a": "zone policy",
        "14b": "does not expose",
    }


def test_the_cast_comes_from_the_topology(expected):
    got = {str(e["story"]): e for e in expected["expectations"]}
    assert got["1"]["host"] in {"web01", "web02"}
    assert (
        got["4"]["destination.asset"] in {"app01", "db01"}
        and got["4"]["destination.asset"] != got["1"]["host"]
    )
    assert got["10"]["source.ip"] == "10.40.0.5" and got["10"]["source.asset"] == "scanner01"
    assert got["11"]["source.ip"] == "10.40.0.6"
    assert got["12"]["host"] == "jump01"
    assert got["13"]["host"] == "db01"
    assert (got["14a"]["destination.asset"], got["14a"]["destination.port"]) == ("db01", 5432)
    assert got["14b"]["destination.port"] == 8443
    assert got["6"]["source.asset"] in {"ws-alice", "ws-bob"}


# ---- the log lines -------------------------------------------------------------------------


def test_every_line_is_well_formed(seven):
    out, _ = seven
    kinds = set()
    for rel, data in _files(out).items():
        if rel == "expected.yaml":
            continue
        kind = _kind(rel)
        kinds.add(kind)
        host = rel.split("/")[1]
        text = data.decode("utf-8")
        assert text.endswith("\n")
        for line in text.splitlines():
            if kind == "auth":
                m = SYSLOG.match(line)
                assert m and m["host"] == host, line
                assert any(re.fullmatch(p, m["msg"]) for p in AUTH[m["tag"]]), line
            elif kind == "kern":
                m = SYSLOG.match(line)
                assert m and m["host"] == host and m["tag"] == "kernel" and m["pid"] is None, line
                assert KERN.match(m["msg"]), line
            elif kind == "asa":
                m = ASA_LINE.match(line)
                assert m and m["host"] == host, line
                assert re.fullmatch(ASA[m["code"]], m["msg"]), line
            elif kind == "access":
                assert ACCESS.match(line), line
            elif kind == "eve":
                ev = json.loads(line)
                assert EVE_TS.match(ev["timestamp"]) and ev["host"] == host
                assert ev["event_type"] in ("alert", "flow")
                for key in (
                    "flow_id",
                    "in_iface",
                    "src_ip",
                    "src_port",
                    "dest_ip",
                    "dest_port",
                    "proto",
                ):
                    assert key in ev, (key, line)
                if ev["event_type"] == "alert":
                    a = ev["alert"]
                    assert a["severity"] in (1, 3) and a["signature"].startswith("ET ")
                    if a["severity"] == 3:
                        assert not re.search(r"EXPLOIT|CVE-\d{4}", a["signature"])
                        assert a["category"] in (
                            "Potentially Bad Traffic",
                            "Not Suspicious Traffic",
                            "Misc activity",
                        )
                else:
                    assert set(ev["flow"]) >= {
                        "pkts_toserver",
                        "bytes_toclient",
                        "start",
                        "end",
                        "state",
                    }
    assert kinds == {"auth", "kern", "asa", "eve", "access"}


def test_timestamps_are_ordered_in_every_file_and_inside_the_span(seven):
    out, sc = seven
    for rel, data in _files(out).items():
        if rel == "expected.yaml":
            continue
        kind = _kind(rel)
        times = [_time_of(kind, line) for line in data.decode().splitlines()]
        assert times == sorted(times), rel
    kern_uptimes = defaultdict(list)
    for p in out.glob("logs/*/kern.log"):
        for line in p.read_text().splitlines():
            kern_uptimes[p].append(float(re.search(r"\[\s*(\d+\.\d+)\]", line)[1]))
    for p, ups in kern_uptimes.items():
        assert ups == sorted(ups), p


def test_iso_timestamps_option(tmp_path):
    def auth_lines(out: Path, rfc3164: bool) -> list[str]:
        generate(out, topology_path=TOPOLOGY, seed=3, hours=6, noise_per_hour=30, rfc3164=rfc3164)
        return [x for p in out.glob("logs/*/auth.log") for x in p.read_text().splitlines()]

    iso = auth_lines(tmp_path / "iso", rfc3164=False)
    assert len(iso) > 100 and all(ISO_SYSLOG.match(line) for line in iso)
    classic = auth_lines(tmp_path / "rfc3164", rfc3164=True)  # the negative case
    assert len(classic) == len(iso) and not any(ISO_SYSLOG.match(line) for line in classic)


# ---- the story is in the logs, and the noise does not fake it ------------------------------


def _sshd_events(out: Path):
    """(time, host, kind, user, src) for sshd Failed / Accepted lines in every auth.log."""
    rx = re.compile(
        rf"(Failed|Accepted) (?:password|publickey) for (?:invalid user )?(\S+) from ({IP})"
    )
    for p in sorted(out.glob("logs/*/auth.log")):
        for line in p.read_text().splitlines():
            m = SYSLOG.match(line)
            if m["tag"] != "sshd":
                continue
            f = rx.match(m["msg"])
            if f:
                yield _bsd(m["ts"]), p.parent.name, f[1], f[2], f[3]


def _max_in_window(times: list[datetime], window: timedelta) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.mark.parametrize("seed", [7, 21, 1234])
def test_story_shape_and_clean_noise(tmp_path, seed):
    generate(tmp_path, topology_path=TOPOLOGY, seed=seed, hours=6, noise_per_hour=1000)
    exp = {
        str(e["story"]): e
        for e in yaml.safe_load((tmp_path / "expected.yaml").read_text())["expectations"]
    }
    events = list(_sshd_events(tmp_path))
    failures = defaultdict(list)
    users = defaultdict(set)
    for t, _host, kind, user, src in events:
        if kind == "Failed":
            failures[src].append(t)
            users[src].add(user)
    five = timedelta(minutes=5)
    bursts = {src for src, ts in failures.items() if _max_in_window(ts, five) >= 10}
    assert bursts == {exp["1"]["source.ip"], exp["11"]["source.ip"]}
    assert 25 <= len(failures[exp["1"]["source.ip"]]) <= 60
    assert len(users[exp["1"]["source.ip"]]) <= 4  # brute force, not a spray
    sprayer = exp["8"]["source.ip"]
    assert 8 <= len(users[sprayer]) <= 15 and _max_in_window(failures[sprayer], five) < 10
    assert len(failures[exp["N2"]["source.ip"]]) == 3
    assert exp["N4"]["source.ip"] not in failures
    # only the brute forcer and the admin at the jump host log in from outside
    external = {
        src
        for _, _, kind, _, src in events
        if kind == "Accepted" and not ipaddress.ip_address(src).is_private
    }
    external |= {
        src
        for _, _, kind, _, src in events
        if kind == "Accepted" and src.startswith(("203.0.113.", "198.51.100."))
    }
    assert external == {exp["1"]["source.ip"], exp["12"]["source.ip"]}
    # the lateral hop comes from the victim's IP onto the target
    victim_ip = {"web01": "10.10.0.10", "web02": "10.10.0.11"}[exp["1"]["host"]]
    hops = [
        (t, host) for t, host, kind, _user, src in events if kind == "Accepted" and src == victim_ip
    ]
    assert [h for _, h in hops] == [exp["4"]["destination.asset"]]
    # sudo failures: only the insider (story 9), the change-window admin (13) and one typo (N1)
    fail_lines = defaultdict(int)
    for p in tmp_path.glob("logs/*/auth.log"):
        for line in p.read_text().splitlines():
            m = re.search(
                r"sudo: (?:pam_unix\(sudo:auth\): authentication failure;.* user=(\S+)$|(\S+) : 3 incorrect)",
                line,
            )
            if m:
                fail_lines[(p.parent.name, m[1] or m[2])] += 1
    assert fail_lines[(exp["9"]["host"], exp["9"]["user"])] >= 2
    assert fail_lines[(exp["13"]["host"], exp["13"]["user"])] >= 2
    assert fail_lines[(exp["N1"]["host"], exp["N1"]["user"])] == 1
    assert len(fail_lines) == 3


def test_change_window_episode_is_inside_the_window(expected, seven):
    out, _ = seven
    got = {str(e["story"]): e for e in expected["expectations"]}
    host, user = got["13"]["host"], got["13"]["user"]
    lo, hi = datetime(2026, 11, 20, 1, tzinfo=UTC), datetime(2026, 11, 20, 3, tzinfo=UTC)
    times = [
        _bsd(SYSLOG.match(line)["ts"])
        for line in (out / "logs" / host / "auth.log").read_text().splitlines()
        if f"sudo: {user} :" in line or f"logname={user} " in line
    ]
    assert times and all(lo <= t < hi for t in times)
    # and the real attacks stay out of every change window
    for story in ("9",):
        h, u = got[story]["host"], got[story]["user"]
        ts = [
            _bsd(SYSLOG.match(line)["ts"])
            for line in (out / "logs" / h / "auth.log").read_text().splitlines()
            if f"sudo: {u} :" in line
        ]
        assert ts and not (h == "db01" and any(lo <= t < hi for t in ts))


# ---- CLI and the bundled sample ------------------------------------------------------------


def test_cli_writes_a_scenario(tmp_path, capsys):
    rc = synth_main(
        [
            str(tmp_path / "out"),
            "--seed",
            "5",
            "--hours",
            "6",
            "--noise-per-hour",
            "20",
            "--topology",
            str(TOPOLOGY),
        ]
    )
    assert rc == 0
    assert (tmp_path / "out" / "expected.yaml").is_file()
    assert "expectations" in capsys.readouterr().out


def test_cli_reports_a_bad_topology(tmp_path, capsys):
    rc = synth_main([str(tmp_path / "out"), "--topology", str(tmp_path / "nope")])
    assert rc == 2
    assert "error" in capsys.readouterr().err


def test_bundled_sample_is_what_the_generator_writes(tmp_path, monkeypatch):
    samples = REPO / "samples"
    if not (samples / "expected.yaml").is_file():
        pytest.skip("no bundled sample")
    monkeypatch.chdir(REPO)
    generate(tmp_path, topology_path=Path("topology/example"), seed=7, noise_per_hour=1500)
    got = {k: v for k, v in _files(tmp_path).items()}
    want = {
        k: v for k, v in _files(samples).items() if k.startswith("logs/") or k == "expected.yaml"
    }
    assert got.keys() == want.keys()
    assert got == want, (
        "samples/ is stale: regenerate with `python -m secops.synth samples --seed 7`"
    )
    assert sum(len(v) for v in want.values()) < 3_000_000
