"""The topology questions a rule clause may ask, one function each, registered in QUESTIONS.

Each function returns one Answer per entity it is about (sources or targets). The judge
combines them: suppress when every known answer holds, require fails when every known
answer is no, escalate when any holds. Unknown (None) answers never cut.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secops.judge.context import Context
from secops.topology import Answer

CRITICALITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}

Question = Callable[[Any, Context, Any], list[Answer]]


#: answers recorded per clause (the judge reads no more)
MAX_ANSWERS = 80


def _tagged(topology: Any, asset: str | None, tag: str, what: str) -> Answer:
    if asset is None:
        return Answer(None, f"{what} is not a known asset", {"tag": tag})
    has = topology.has_tag(asset, tag)
    return Answer(
        has,
        f"{what} {asset} {'has' if has else 'does not have'} tag {tag}",
        {"asset": asset, "tag": tag},
    )


def source_tag(topology: Any, ctx: Context, tag: str) -> list[Answer]:
    return [_tagged(topology, asset, tag, "source") for _ip, asset, _loc in ctx.sources]


def target_tag(topology: Any, ctx: Context, tag: str) -> list[Answer]:
    return [_tagged(topology, t.asset, tag, "target") for t in ctx.targets]


def host_tag(topology: Any, ctx: Context, tag: str) -> list[Answer]:
    return [_tagged(topology, h, tag, "host") for h in ctx.hosts]


def _zone_is(topology: Any, ip: str | None, zone: str, what: str) -> Answer:
    got = topology.zone_of(ip) if ip else None
    if got is None:
        return Answer(None, f"{what} {ip} is in no known zone", {"ip": ip})
    return Answer(got == zone, f"{what} {ip} is in zone {got}", {"ip": ip, "zone": got})


def source_zone(topology: Any, ctx: Context, zone: str) -> list[Answer]:
    return [_zone_is(topology, ip, zone, "source") for ip, _a, _l in ctx.sources]


def target_zone(topology: Any, ctx: Context, zone: str) -> list[Answer]:
    return [_zone_is(topology, t.ip, zone, "target") for t in ctx.targets]


def source_known(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [
        Answer(
            (asset is not None) == want,
            f"source {ip} is {'a known asset ' + asset if asset else 'not a known asset'}",
            {"ip": ip, "asset": asset},
        )
        for ip, asset, _l in ctx.sources
    ]


def target_known(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [
        Answer(
            (t.asset is not None) == want,
            f"target {t.ip} is {'a known asset ' + t.asset if t.asset else 'not a known asset'}",
            {"ip": t.ip, "asset": t.asset},
        )
        for t in ctx.targets
    ]


def source_external(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    out = []
    for ip, _asset, locality in ctx.sources:
        if locality is None:
            out.append(Answer(None, f"source {ip} has no locality", {"ip": ip}))
        else:
            out.append(
                Answer((locality == "external") == want, f"source {ip} is {locality}", {"ip": ip})
            )
    return out


def target_exposes(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [
        _flip(topology.exposes(t.asset, t.port, t.transport or "tcp"), want) for t in ctx.targets
    ]


def reachable(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    """Each source x each target, up to the MAX_ANSWERS a clause records (not sources x targets)."""
    out: list[Answer] = []
    for ip, _asset, _loc in ctx.sources:
        for t in ctx.targets:
            if len(out) >= MAX_ANSWERS:
                return out
            out.append(_flip(topology.can_reach(ip, t.ip, t.port, t.transport or "tcp"), want))
    return out


def target_in_change_window(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [
        _flip(topology.in_change_window(t.asset, ctx.start), want) for t in ctx.targets if t.asset
    ] or [_flip(topology.in_change_window(h, ctx.start), want) for h in ctx.hosts]


def source_in_change_window(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [
        _flip(topology.in_change_window(asset, ctx.start), want)
        for _ip, asset, _l in ctx.sources
        if asset
    ]


def target_criticality_at_least(topology: Any, ctx: Context, level: str) -> list[Answer]:
    out = []
    for t in ctx.targets:
        if t.asset is None:
            out.append(Answer(None, f"target {t.ip} is not a known asset", {"ip": t.ip}))
            continue
        crit = topology.criticality(t.asset)
        ok = CRITICALITY_RANK.get(crit, 0) >= CRITICALITY_RANK.get(level, 99)
        out.append(
            Answer(
                ok,
                f"target {t.asset} criticality is {crit}",
                {"asset": t.asset, "criticality": crit},
            )
        )
    return out


def target_on_path_to_crown_jewel(topology: Any, ctx: Context, want: bool) -> list[Answer]:
    return [_flip(topology.path_to_crown_jewel(t.asset), want) for t in ctx.targets if t.asset]


def _flip(answer: Answer, want: bool) -> Answer:
    if want or answer.value is None:
        return answer
    return Answer(not answer.value, answer.reason, answer.detail)


QUESTIONS: dict[str, Question] = {
    "source_tag": source_tag,
    "target_tag": target_tag,
    "host_tag": host_tag,
    "source_zone": source_zone,
    "target_zone": target_zone,
    "source_known": source_known,
    "target_known": target_known,
    "source_external": source_external,
    "target_exposes": target_exposes,
    "reachable": reachable,
    "target_in_change_window": target_in_change_window,
    "source_in_change_window": source_in_change_window,
    "target_criticality_at_least": target_criticality_at_least,
    "target_on_path_to_crown_jewel": target_on_path_to_crown_jewel,
}
