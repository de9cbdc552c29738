"""Sigma logsources meet only their own events: a keyword rule of a logsource no collector
produces is reported and never runs; the webserver category reads the access-log collector's
events only; |fieldref compares two mapped columns."""

from __future__ import annotations

import json

from secops.sigma.load import load_sigma
from tests.sigma.conftest import SIGMA, fired, needs_data, parsed

pytestmark = needs_data
RULES = SIGMA / "sigmahq" / "rules"
ASA_LINE = (
    "Nov 20 10:00:00 fw1 %ASA-6-106100: access-list outside_in permitted tcp "
    "outside/203.0.113.9(51000) -> inside/10.0.0.5(22) hit-cnt 1 first hit [0x0, 0x0]"
)
TRAVERSAL = "/download?file=../../../etc/passwd"


def test_a_keyword_rule_of_a_logsource_we_do_not_collect_is_unsupported_and_never_runs(
    tmp_path,
):
    load = load_sigma([RULES / "network/cisco/aaa/cisco_cli_modify_config.yml"])
    [verdict] = load.verdicts
    assert verdict.status == "unsupported" and not load.rules
    assert "logsource product=cisco service=aaa is not produced" in verdict.reason
    assert "access-list" in ASA_LINE  # the keyword is there: running it would fire
    assert fired(load, parsed(tmp_path, [ASA_LINE])) == {}


def test_webserver_rules_read_access_logs_and_only_them(tmp_path):
    load = load_sigma([RULES / "web/webserver_generic/web_path_traversal_exploitation_attempt.yml"])
    assert [v.status for v in load.verdicts] == ["supported"]
    lines = [
        f'203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] "GET {TRAVERSAL} HTTP/1.1" 404 153 "-" "curl/8"',
        '203.0.113.9 - - [20/Nov/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 153 "-" "curl/8"',
        f"Nov 20 10:00:02 host1 sshd[77]: Invalid user {TRAVERSAL} from 203.0.113.9 port 4",
    ]
    assert fired(load, parsed(tmp_path, lines)) == {"Path Traversal Exploitation Attempts": [0]}


def test_fieldref_items_get_the_event_data_prefix(tmp_path):
    load = load_sigma(
        [RULES / "windows/builtin/security/win_security_explicit_credential_local_logon.yml"]
    )
    assert [v.status for v in load.verdicts] == ["supported"]
    event = {
        "Event": {
            "System": {
                "EventID": 4648,
                "Channel": "Security",
                "Computer": "ws1",
                "TimeCreated": {"#attributes": {"SystemTime": "2026-11-20T10:00:00Z"}},
            },
            "EventData": {
                "SubjectUserName": "alice",
                "TargetUserName": "bob",
                "TargetServerName": "localhost",
                "ProcessName": "C:\\Users\\alice\\runas2.exe",
            },
        }
    }
    same_user = json.loads(json.dumps(event))
    same_user["Event"]["EventData"]["TargetUserName"] = "alice"
    lines = [json.dumps(event), json.dumps(same_user)]
    assert list(fired(load, parsed(tmp_path, lines, "events.json")).values()) == [[0]]


def _event(channel: str, event_id: int, data: dict[str, str]) -> str:
    system = {
        "EventID": event_id,
        "Channel": channel,
        "Computer": "ws1",
        "TimeCreated": {"#attributes": {"SystemTime": "2026-11-20T10:00:00Z"}},
    }
    return json.dumps({"Event": {"System": system, "EventData": data}})


def test_process_creation_reads_sysmon_1_and_security_4688(tmp_path):
    rule = (
        RULES
        / "windows/process_creation/proc_creation_win_browsers_chromium_headless_file_download.yml"
    )
    load = load_sigma([rule])
    cmd = "chrome.exe --headless --dump-dom http://198.51.100.7/x"
    chrome = "C:\\Users\\alice\\chrome.exe"
    lines = [
        _event("Microsoft-Windows-Sysmon/Operational", 1, {"Image": chrome, "CommandLine": cmd}),
        _event("Security", 4688, {"NewProcessName": chrome, "CommandLine": cmd}),
        _event("Security", 4688, {"NewProcessName": chrome, "CommandLine": "chrome.exe"}),
        _event("Security", 4689, {"ProcessName": chrome, "CommandLine": cmd}),  # an exit
        _event("Microsoft-Windows-Sysmon/Operational", 5, {"Image": chrome, "CommandLine": cmd}),
    ]
    assert list(fired(load, parsed(tmp_path, lines, "events.json")).values()) == [[0, 1]]
