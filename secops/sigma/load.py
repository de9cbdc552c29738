"""Sigma files -> our Rules, with a verdict per Sigma rule (supported / unsupported / invalid).

pySigma parses and validates every document (rules, correlation rules, meta-filters); we do not
parse Sigma YAML ourselves. Then: meta-filters are applied, correlation references resolved,
every detection rule mapped and compiled (secops.sigma.translate), correlations translated,
the overlay applied. A base rule referenced by a correlation only fires on its own when that
correlation says `generate: true`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from secops.correlate.rule import Rule
from secops.errors import RuleError, SecopsError
from secops.sigma import temporal as _temporal  # noqa: F401  (registers the temporal kind)
from secops.sigma.compile import Unsupported
from secops.sigma.mapping import Mapping, load_mapping
from secops.sigma.overlay import Overlay, load_overlay
from secops.sigma.translate import (
    Compiled,
    compile_rule,
    correlation_rule,
    detection_rule,
    rule_id,
)


class SigmaUnsupportedError(RuleError):
    """A valid Sigma rule this engine cannot run (the reason says why)."""


@dataclass(frozen=True)
class Verdict:
    """What became of one Sigma rule."""

    id: str
    title: str
    file: str | None
    kind: str  # detection | correlation | filter
    status: str  # supported | unsupported | invalid | disabled
    reason: str | None = None
    runs_as: str | None = None  # our rule type, or 'correlation input'
    logsource: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SigmaLoad:
    rules: list[Rule] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    errors: list[SecopsError] = field(default_factory=list)


def load_sigma(
    files: Iterable[str | Path],
    overlays: Iterable[str | Path] = (),
    mapping: Mapping | None = None,
) -> SigmaLoad:
    out = SigmaLoad()
    overlay = Overlay()
    for f in overlays:
        try:
            overlay = overlay.merge(load_overlay(f))
        except SecopsError as exc:
            out.errors.append(exc)
    mapping = (mapping or load_mapping()).with_vars(overlay.placeholders)
    parsed = _parse(files, out)
    rules: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = [
        r for r in parsed if isinstance(r, (SigmaRule, SigmaCorrelationRule))
    ]
    filters = [r for r in parsed if isinstance(r, SigmaFilter)]
    collection = SigmaCollection(rules, collect_filters=True, resolve_references=False)
    if filters:
        collection.apply_filters(filters)
    for filt in filters:
        out.verdicts.append(_verdict(filt, "filter", "supported", runs_as="meta-filter"))
    _translate(collection, mapping, overlay, out)
    return out


def _parse(files: Iterable[str | Path], out: SigmaLoad) -> list[Any]:
    parsed: list[Any] = []
    for f in files:
        path = Path(f)
        try:
            coll = SigmaCollection.from_yaml(
                path.read_text(encoding="utf-8"),
                collect_errors=True,
                source=SigmaRuleLocation(path),
                collect_filters=True,
                resolve_references=False,
            )
        except (SigmaError, yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
            out.errors.append(RuleError(f"invalid Sigma file: {exc}", str(path)))
            continue
        for item in [*coll.rules, *coll.filters]:
            errs = getattr(item, "errors", None) or []
            if errs:
                reason = "; ".join(str(e) for e in errs)
                kind = "correlation" if isinstance(item, SigmaCorrelationRule) else "detection"
                out.verdicts.append(_verdict(item, kind, "invalid", reason))
                out.errors.append(RuleError(f"invalid Sigma rule: {reason}", str(path)))
            else:
                parsed.append(item)
        if not coll.rules and not coll.filters and coll.errors:
            out.errors.append(RuleError(f"invalid Sigma file: {coll.errors[0]}", str(path)))
    return parsed


def _translate(collection: SigmaCollection, m: Mapping, overlay: Overlay, out: SigmaLoad) -> None:
    compiled: dict[int, Compiled] = {}
    failed: dict[int, str] = {}
    for r in collection.rules:
        if isinstance(r, SigmaRule):
            try:
                compiled[id(r)] = compile_rule(r, m)
            except Unsupported as exc:
                failed[id(r)] = str(exc)
    quiet, broken = _resolve(collection, out)
    for r in collection.rules:
        if isinstance(r, SigmaCorrelationRule):
            if id(r) in broken:
                continue
            build = lambda r=r: correlation_rule(r, compiled)  # noqa: E731
            _emit(r, "correlation", build, overlay, out, quiet=id(r) in quiet)
        elif id(r) in failed and overlay.disables(rule_id(r)):  # switched off: no error
            reason = f"switched off in the overlay (unsupported: {failed[id(r)]})"
            out.verdicts.append(_verdict(r, "detection", "disabled", reason))
        elif id(r) in failed:
            _unsupported(r, "detection", failed[id(r)], out)
        elif id(r) in quiet:
            entry = compiled[id(r)].entry.id
            out.verdicts.append(
                _verdict(r, "detection", "supported", runs_as="correlation input", ls=entry)
            )
        else:
            c = compiled[id(r)]
            _emit(r, "detection", lambda c=c: detection_rule(c), overlay, out, c.entry.id)


def _resolve(collection: SigmaCollection, out: SigmaLoad) -> tuple[set[int], set[int]]:
    """Resolve correlation references: (rules only used as correlation input, broken ones)."""
    quiet: set[int] = set()
    broken: set[int] = set()
    for r in collection.rules:
        if not isinstance(r, SigmaCorrelationRule):
            continue
        try:
            r.resolve_rule_references(collection)
        except SigmaError as exc:
            _unsupported(r, "correlation", f"cannot resolve rule references: {exc}", out)
            broken.add(id(r))
            continue
        if not r.generate:
            quiet.update(id(ref.rule) for ref in r.referenced_rules if ref.rule is not None)
    return quiet, broken


def _emit(
    r: Any,
    kind: str,
    build: Any,
    overlay: Overlay,
    out: SigmaLoad,
    ls: str | None = None,
    quiet: bool = False,
) -> None:
    try:
        rule = build()
    except Unsupported as exc:
        _unsupported(r, kind, str(exc), out)
        return
    if quiet:  # a correlation used only as input of another one (checked, not run alone)
        out.verdicts.append(_verdict(r, kind, "supported", runs_as="correlation input"))
        return
    level = str(r.level.name).lower() if r.level else None
    final = overlay.apply(rule, level)
    if final is None:
        out.verdicts.append(_verdict(r, kind, "disabled", "switched off in the overlay", ls=ls))
        return
    out.rules.append(final)
    out.verdicts.append(_verdict(r, kind, "supported", runs_as=final.type, ls=ls))


def _unsupported(r: Any, kind: str, reason: str, out: SigmaLoad) -> None:
    v = _verdict(r, kind, "unsupported", reason)
    out.verdicts.append(v)
    out.errors.append(
        SigmaUnsupportedError(
            f"unsupported Sigma rule {v.id} '{v.title}': {reason} "
            "(see 'secops rules import-sigma'; switch it off in the overlay with enabled: false)",
            v.file,
        )
    )


def _verdict(
    r: Any,
    kind: str,
    status: str,
    reason: str | None = None,
    runs_as: str | None = None,
    ls: str | None = None,
) -> Verdict:
    src = getattr(r, "source", None)
    return Verdict(
        id=rule_id(r) if not isinstance(r, SigmaFilter) else str(r.id or r.name or r.title),
        title=str(getattr(r, "title", "") or ""),
        file=str(src.path) if src is not None and src.path else None,
        kind=kind,
        status=status,
        reason=reason,
        runs_as=runs_as,
        logsource=ls,
    )
