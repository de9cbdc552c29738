"""pySigma's parsed condition tree -> one vectorised mask over the events frame.

The tree (`rule.detection.parsed_condition[i].parsed`) has already resolved selections,
`1 of` / `all of` / `them`, value lists and `|all`; its leaves are field/value and keyword
expressions whose values carry the modifiers' result (wildcards for contains/startswith/
endswith, SigmaExpansion for windash/base64offset, SigmaRegularExpression, SigmaCIDRExpression,
SigmaCompareExpression, SigmaFieldReference, SigmaExists, SigmaNull ...). Each leaf becomes an
Arrow compute call over a whole column (RE2 regexes via pyarrow); nothing loops per event.
Sigma string matching is case-insensitive unless `|cased`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from secops.correlate.conditions import _any, _as_int, _as_str, _in_nets, _to_mask, column

Mask = Callable[[pd.DataFrame], np.ndarray]
Allow = Callable[[str], bool]

#: where keyword lists (values without a field) are searched.
KEYWORD_FIELDS = ("message", "event.original")
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_COMPARE = {
    CompareOperators.LT: pc.less,
    CompareOperators.LTE: pc.less_equal,
    CompareOperators.GT: pc.greater,
    CompareOperators.GTE: pc.greater_equal,
    CompareOperators.NEQ: pc.not_equal,
}


class Unsupported(Exception):
    """A Sigma construct this engine cannot run; the message says which and why."""


class Compiler:
    """Compiles condition trees; collects the fields used (after mapping)."""

    def __init__(self, allow: Allow, resolve: Callable[[str], str] = lambda name: name) -> None:
        self.allow = allow
        self.resolve = resolve  # a Sigma name in a |fieldref value -> our column
        self.fields: set[str] = set()
        self._scopes: list[set[str]] = []

    def compile(self, node: object) -> Mask:
        if isinstance(node, ConditionAND):
            return narrowing_all([self.tracked(a) for a in node.args])
        if isinstance(node, ConditionOR):
            return self._or(node.args)
        if isinstance(node, ConditionNOT):
            inner = self.compile(node.args[0])
            return lambda fr: ~inner(fr)
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self._leaf(node.field, node.value)
        if isinstance(node, ConditionValueExpression):
            return self._keyword(node.value)
        raise Unsupported(f"condition element {type(node).__name__}")

    def tracked(self, node: object) -> tuple[Mask, frozenset[str]]:
        """Compile `node`; also return the columns it reads (for narrowing)."""
        self._scopes.append(set())
        mask = self.compile(node)
        used = self._scopes.pop()
        for scope in self._scopes:
            scope |= used
        return mask, frozenset(used)

    def _use(self, *names: str) -> None:
        self.fields.update(names)
        if self._scopes:
            self._scopes[-1].update(names)

    # -- or: plain strings on one field become one regex alternation ------------------------
    def _or(self, args: Iterable[object]) -> Mask:
        groups: dict[str | None, list[str]] = {}
        parts: list[Mask] = []
        for a in args:
            key, value = _plain_string(a)
            if value is None:
                parts.append(self.compile(a))
                continue
            groups.setdefault(key, []).append(_string_regex(value, anchored=key is not None))
        for key, alts in groups.items():
            regex = "(?is)" + "|".join(f"(?:{x})" for x in alts)
            parts.append(self._regex_on(key, regex))
        return parts[0] if len(parts) == 1 else _any(parts)

    def _regex_on(self, name: str | None, regex: str) -> Mask:
        _check_re2(regex)
        if name is None:
            self._use(*KEYWORD_FIELDS)
            return _any([_regex_mask(f, regex) for f in KEYWORD_FIELDS])
        self._field(name)
        return _regex_mask(name, regex)

    def _keyword(self, value: object) -> Mask:
        if isinstance(value, SigmaExpansion):
            return _any([self._keyword(v) for v in value.values])
        if isinstance(value, SigmaString):
            flags = "(?s)" if isinstance(value, SigmaCasedString) else "(?is)"
            return self._regex_on(None, flags + _string_regex(value, anchored=False))
        if isinstance(value, SigmaNumber):
            return self._regex_on(None, re.escape(str(value.number)))
        if isinstance(value, SigmaRegularExpression):
            return self._regex_on(None, _regex(value))
        raise Unsupported(f"keyword of type {type(value).__name__}")

    def _field(self, name: str) -> None:
        if not self.allow(name):
            raise Unsupported(
                f"field '{name}' has no mapping to our events (see secops/sigma/mapping.yaml)"
            )
        self._use(name)

    def _leaf(self, name: str, value: object) -> Mask:
        if isinstance(value, SigmaExpansion):
            return _any([self._leaf(name, v) for v in value.values])
        name = self.resolve(name)  # pySigma leaves the field of a |fieldref item unrenamed
        self._field(name)
        if isinstance(value, SigmaString):
            flags = "(?s)" if isinstance(value, SigmaCasedString) else "(?is)"
            return self._regex_on(name, flags + _string_regex(value, anchored=True))
        if isinstance(value, SigmaTimestampPart):
            raise Unsupported("timestamp part modifiers (minute, hour, day, week, month, year)")
        if isinstance(value, SigmaNumber):
            return _number_equals(name, value.number)
        if isinstance(value, SigmaBool):
            return self._regex_on(name, f"(?i)^{str(bool(value.boolean)).lower()}$")
        if isinstance(value, SigmaNull):
            return lambda fr: _to_mask(pc.is_null(column(fr, name)))
        if isinstance(value, SigmaExists):
            want = bool(value.exists)
            return lambda fr: _to_mask(pc.is_valid(column(fr, name))) == want
        if isinstance(value, SigmaRegularExpression):
            return self._regex_on(name, _regex(value))
        if isinstance(value, SigmaCIDRExpression):
            return _cidr(name, value.network)
        if isinstance(value, SigmaCompareExpression):
            return _compare(name, value.op, value.number.number)
        if isinstance(value, SigmaFieldReference):
            other = self.resolve(value.field)  # the pipeline renames fields, not references
            self._field(other)
            return _fieldref(name, other, value)
        raise Unsupported(f"value type {type(value).__name__} on field '{name}'")


def narrowing_all(parts: list[tuple[Mask, frozenset[str]]]) -> Mask:
    """AND of masks; once few rows are left, the rest only run on those rows (their columns)."""
    if len(parts) == 1:
        return parts[0][0]

    def run(frame: pd.DataFrame) -> np.ndarray:
        mask = parts[0][0](frame)
        for i in range(1, len(parts)):
            rows = np.flatnonzero(mask)
            if len(rows) == 0:
                return mask
            if len(rows) * 2 > len(frame):
                mask &= parts[i][0](frame)
                continue
            cols = [c for c in frozenset().union(*(f for _, f in parts[i:])) if c in frame.columns]
            sub = frame[cols].take(rows).reset_index(drop=True)
            out = np.zeros(len(frame), dtype=bool)
            out[rows] = narrowing_all(parts[i:])(sub) if len(sub) else np.zeros(0, dtype=bool)
            return out
        return mask

    return run


def _plain_string(node: object) -> tuple[str | None, SigmaString | None]:
    """(field, value) for a case-insensitive string leaf (field None = keyword), else (.., None)."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        key, value = node.field, node.value
    elif isinstance(node, ConditionValueExpression):
        key, value = None, node.value
    else:
        return None, None
    if isinstance(value, SigmaString) and not isinstance(value, SigmaCasedString):
        return key, value
    return None, None


def _string_regex(s: SigmaString, anchored: bool) -> str:
    out = []
    for part in s.s:
        if isinstance(part, str):
            out.append(re.escape(part))
        elif part == SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif isinstance(part, Placeholder):
            raise Unsupported(
                f"placeholder '%{part.name}%' (|expand) has no values: add it to 'placeholders' "
                "in the overlay file"
            )
    body = "".join(out)
    return f"^{body}$" if anchored else body


def _regex(value: SigmaRegularExpression) -> str:
    flags = "".join(sorted(_RE_FLAGS[f] for f in value.flags))
    body = str(value.regexp.to_plain_regex())
    return (f"(?{flags})" if flags else "") + body


def _check_re2(regex: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""]), regex)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Unsupported(f"regex not valid in RE2 (linear time, no look-around): {exc}") from None


def _regex_mask(name: str, regex: str) -> Mask:
    return lambda fr: _to_mask(pc.match_substring_regex(_as_str(column(fr, name)), regex))


def _is_number_type(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _number_equals(name: str, number: float | int) -> Mask:
    text = str(number)

    def run(fr: pd.DataFrame) -> np.ndarray:
        data = column(fr, name)
        if _is_number_type(data.type):
            return _to_mask(pc.equal(data, number))
        return _to_mask(pc.equal(pc.utf8_trim_whitespace(_as_str(data)), text))

    return run


def _compare(name: str, op: CompareOperators, number: float | int) -> Mask:
    fn = _COMPARE[op]
    return lambda fr: _to_mask(fn(_as_int(column(fr, name)), number))


def _cidr(name: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Mask:
    def run(fr: pd.DataFrame) -> np.ndarray:
        data = _as_str(column(fr, name))
        uniques = pc.unique(data).drop_null().to_pylist()
        hits = [u for u in uniques if _in_nets(u, [network])]
        return _to_mask(pc.is_in(data, value_set=pa.array(hits, pa.string())))

    return run


def _fieldref(name: str, other: str, ref: SigmaFieldReference) -> Mask:
    """Compare two columns; prefix/suffix tests run once per distinct (a, b) pair."""

    def run(fr: pd.DataFrame) -> np.ndarray:
        a, b = _as_str(column(fr, name)), _as_str(column(fr, other))
        if not (ref.starts_with or ref.ends_with):
            return _to_mask(pc.equal(a, b))
        pairs = pd.DataFrame({"a": a.to_pandas(), "b": b.to_pandas()})
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(pairs.astype(object)))
        test = str.startswith if ref.starts_with else str.endswith
        ok = np.array(
            [isinstance(x, str) and isinstance(y, str) and test(x, y) for x, y in uniq], dtype=bool
        )
        return np.where(codes >= 0, ok[np.maximum(codes, 0)], False)

    return run
