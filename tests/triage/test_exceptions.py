"""Exception files: loading (every error with file:line), matching, expiry; the judge applies them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from secops.errors import ContentErrors
from secops.judge.exceptions import Entities, FindingException, first_match, load_exceptions
from tests.helpers import REPO

NOW = datetime(2026, 11, 27, tzinfo=UTC)
GOOD = """\
id: {id}
rule: port-scan-vertical
scope: {scope}
reason: inventory scan
analyst: carol
created: 2026-11-20T09:00:00Z
expires: {expires}
"""


def exc(scope: str, expires: str = "2027-01-01T00:00:00Z", id: str = "x") -> FindingException:
    from secops.content import parse_yaml

    return FindingException.from_dict(parse_yaml(GOOD.format(id=id, scope=scope, expires=expires)))


ALICE = Entities(
    sources=(("10.20.1.15", "ws-alice", frozenset({"pentest"})),),
    targets=(("web01", frozenset({"public-facing"})),),
    users=("alice",),
)


@pytest.mark.parametrize(
    ("scope", "hit"),
    [
        ("{source.ip: 10.20.1.15}", True),
        ("{source.ip: 10.20.1.16}", False),
        ("{source.asset: WS-ALICE}", True),
        ("{source.subnet: 10.20.0.0/16}", True),
        ("{source.subnet: 10.30.0.0/16}", False),
        ("{source.tag: pentest}", True),
        ("{target.tag: public-facing, user.name: alice}", True),
        ("{target.asset: web01, user.name: bob}", False),
    ],
)
def test_scope_must_hold_for_every_key(scope: str, hit: bool) -> None:
    assert exc(scope).matches("port-scan-vertical", ALICE) is hit
    assert not exc(scope).matches("ssh-brute-force", ALICE)


def test_every_entity_and_never_on_unknown() -> None:
    two = Entities(
        sources=(("10.20.1.15", "ws-alice", frozenset()), ("10.20.1.16", None, frozenset()))
    )
    assert not exc("{source.asset: ws-alice}").matches("port-scan-vertical", two)
    assert exc("{source.subnet: 10.20.1.0/24}").matches("port-scan-vertical", two)
    assert not exc("{user.name: alice}").matches("port-scan-vertical", Entities())


def test_expired_exceptions_do_not_apply() -> None:
    old = exc("{source.ip: 10.20.1.15}", expires="2026-11-26T00:00:00Z")
    assert first_match([old], "port-scan-vertical", ALICE, NOW) is None
    assert first_match([exc("{source.ip: 10.20.1.15}")], "port-scan-vertical", ALICE, NOW)


def test_loader_collects_every_error_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "id: b\nrule: r\nscope: {src_ip: 1.2.3.4, source.subnet: 10.0.0.300/8}\n"
        "reason: x\nanalyst: y\ncreated: yesterday\nexpires: 2027-01-01\ncolour: red\n"
    )
    with pytest.raises(ContentErrors) as info:
        load_exceptions(tmp_path)
    text = str(info.value)
    assert f"{tmp_path / 'a.yaml'}:1: id 'b' must equal the file name 'a'" in text
    assert "unknown scope key 'src_ip'" in text and "bad CIDR '10.0.0.300/8'" in text
    assert ":6: 'created' must be an ISO 8601 time" in text
    assert ":8: unknown key 'colour'" in text
    assert info.value.exit_code == 78


def test_missing_folder_is_no_exceptions(tmp_path: Path) -> None:
    assert load_exceptions(tmp_path / "absent") == []
    assert load_exceptions(None) == []


def test_shipped_example_is_valid() -> None:
    (example,) = load_exceptions(REPO / "examples" / "exceptions")
    assert example.id == "fp-ssh-brute-force-backup01"
