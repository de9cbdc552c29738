"""Field conditions: a small YAML language compiled to vectorised boolean masks.

    cond   := {all: [cond, ...]} | {any: [cond, ...]} | {not: cond} | {FIELD: spec, ...}
    spec   := scalar (equals) | [scalar, ...] (one of) | null (field absent)
            | {OP: arg, ...}  (every op must hold)
    OP     := equals, in, contains, startswith, endswith, wildcard, regex, cidr,
              gt, gte, lt, lte, exists, not (a nested spec), ignore_case (modifier)

Evaluation runs on whole Arrow columns (pyarrow.compute, RE2 regexes); no per-event loop.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.content import Located
from secops.errors import RuleError
from secops.schema import ENRICH_FIELDS, EVENT_FIELDS, NUMERIC_FIELDS

Mask = Callable[[pd.DataFrame], np.ndarray]

#: fields rules may name: ECS event columns, topology enrichment columns, derived columns.
DERIVED_FIELDS = {
    "source.locality": "internal|external",
    "destination.locality": "internal|external",
}
KNOWN_FIELDS = (
    set(EVENT_FIELDS) | set(ENRICH_FIELDS) | set(DERIVED_FIELDS) | {"source.domain", "event.reason"}
)

STRING_OPS = {"equals", "in", "contains", "startswith", "endswith", "wildcard", "regex"}
NUMERIC_OPS = {"gt", "gte", "lt", "lte"}
OPS = STRING_OPS | NUMERIC_OPS | {"cidr", "exists", "not", "ignore_case", "ne"}


_numbers = itertools.count()


@dataclass(frozen=True)
class Condition:
    """A compiled condition: the source spec (for display) and its vectorised evaluator.

    `memo` names a boolean column that may carry this condition's mask, computed where the
    rows were parsed (`remember`): a frame that has it is not evaluated again. Conditions are
    numbered as they are compiled, so forked parse workers and the parent agree on names."""

    spec: Any
    evaluate: Mask
    fields: frozenset[str]
    memo: str = field(default_factory=lambda: f"{MEMO_PREFIX}{next(_numbers)}", compare=False)

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0:
            return np.zeros(0, dtype=bool)
        known = frame.get(self.memo)
        if known is not None and known.dtype == bool:
            return known.to_numpy()
        return self.evaluate(frame)


def remember(conds: Sequence[Condition], frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Evaluate every condition on `frame`: (the frame with each mask as its memo column, the
    union of the masks). The memo columns join the frame at once: one insert per condition
    fragmented the frame (pandas warned, thousands of times with a Sigma library loaded)."""
    masks = {c.memo: np.asarray(c(frame), dtype=bool) for c in conds}
    union = np.zeros(len(frame), dtype=bool)
    for mask in masks.values():
        union |= mask
    rest = frame.drop(columns=[m for m in masks if m in frame.columns])
    return pd.concat([rest, pd.DataFrame(masks, index=frame.index)], axis=1), union


#: memo columns of condition masks (`remember`)
MEMO_PREFIX = "_when:"


def compile_condition(spec: Any, file: str | None = None, line: int | None = None) -> Condition:
    """Compile a condition spec; raises RuleError naming the file and line of the bad part."""
    fields: set[str] = set()
    fn = _compile(spec, file, line, fields)
    return Condition(spec, fn, frozenset(fields))


def match_all(frame: pd.DataFrame) -> np.ndarray:
    return np.ones(len(frame), dtype=bool)


def _where(
    spec: Any, file: str | None, line: int | None, key: str | None = None
) -> tuple[str | None, int | None]:
    if isinstance(spec, Located):
        return spec.where(key)
    return file, line


def _compile(spec: Any, file: str | None, line: int | None, fields: set[str]) -> Mask:
    if spec is None:
        return match_all
    if isinstance(spec, list):  # a bare list means all of them
        return _all([_compile(s, file, line, fields) for s in spec])
    if not isinstance(spec, Mapping):
        raise RuleError(f"a condition must be a mapping, got {type(spec).__name__}", file, line)
    parts: list[Mask] = []
    for key, value in spec.items():
        f, ln = _where(spec, file, line, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                raise RuleError(f"'{key}' takes a non-empty list of conditions", f, ln)
            subs = [_compile(v, f, ln, fields) for v in value]
            parts.append(_all(subs) if key == "all" else _any(subs))
        elif key == "not":
            inner = _compile(value, f, ln, fields)
            parts.append(_negate(inner))
        else:
            _check_field(key, f, ln)
            fields.add(key)
            parts.append(_field(key, value, f, ln))
    return _all(parts)


def _check_field(name: str, file: str | None, line: int | None) -> None:
    if name in KNOWN_FIELDS or name.startswith(("labels.", "finding.")):
        return
    close = difflib.get_close_matches(name, sorted(KNOWN_FIELDS), n=1)
    hint = (
        f" (did you mean '{close[0]}'? see 'secops rules fields')"
        if close
        else " (see 'secops rules fields')"
    )
    raise RuleError(f"unknown field '{name}'{hint}", file, line)


def _all(parts: list[Mask]) -> Mask:
    if len(parts) == 1:
        return parts[0]

    def run(frame: pd.DataFrame) -> np.ndarray:
        mask = parts[0](frame)
        for p in parts[1:]:
            if not mask.any():
                break
            mask = mask & p(frame)
        return mask

    return run


def _any(parts: list[Mask]) -> Mask:
    def run(frame: pd.DataFrame) -> np.ndarray:
        mask = parts[0](frame)
        for p in parts[1:]:
            mask = mask | p(frame)
        return mask

    return run


def _negate(part: Mask) -> Mask:
    return lambda frame: ~part(frame)


def column(frame: pd.DataFrame, name: str) -> pa.ChunkedArray | pa.Array:
    """The Arrow data behind a frame column (all-null when the column is missing)."""
    if name not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    arr = frame[name].array
    data = getattr(arr, "_pa_array", None)
    return data if data is not None else pa.array(frame[name], from_pandas=True)


def _to_mask(result: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(result, False).to_numpy(zero_copy_only=False), dtype=bool)


def _field(name: str, spec: Any, file: str | None, line: int | None) -> Mask:
    if spec is None:
        return lambda fr: _to_mask(pc.is_null(column(fr, name)))
    if isinstance(spec, list):
        return _op(name, "in", spec, False, file, line)
    if not isinstance(spec, Mapping):
        return _op(name, "equals", spec, False, file, line)
    unknown = set(spec) - OPS
    if unknown:
        bad = sorted(unknown)[0]
        close = difflib.get_close_matches(bad, sorted(OPS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (one of: {', '.join(sorted(OPS))})"
        raise RuleError(
            f"unknown operator '{bad}' on field '{name}'{hint}", *_where(spec, file, line, bad)
        )
    ignore_case = bool(spec.get("ignore_case", False))
    parts = [
        _op(name, op, arg, ignore_case, *_where(spec, file, line, op))
        for op, arg in spec.items()
        if op != "ignore_case"
    ]
    if not parts:
        raise RuleError(f"no operator given for field '{name}'", file, line)
    return _all(parts)


def _op(
    name: str, op: str, arg: Any, ignore_case: bool, file: str | None, line: int | None
) -> Mask:
    if op == "not":
        inner = _field(name, arg, file, line)
        return lambda fr: ~inner(fr)
    if op == "exists":
        want = bool(arg)
        return lambda fr: _to_mask(pc.is_valid(column(fr, name))) == want
    if op == "cidr":
        return _cidr(name, arg, file, line)
    if op in NUMERIC_OPS:
        return _numeric(name, op, arg, file, line)
    if op in ("equals", "ne") and name in NUMERIC_FIELDS:
        m = _numeric(name, "eq", arg, file, line)
        return m if op == "equals" else (lambda fr: ~m(fr))
    if op == "in" and name in NUMERIC_FIELDS:
        values = pa.array([_number(v, name, file, line) for v in _as_list(arg)], pa.int64())
        return lambda fr: _to_mask(pc.is_in(_as_int(column(fr, name)), value_set=values))
    return _string(name, op, arg, ignore_case, file, line)


def _as_list(arg: Any) -> list[Any]:
    return list(arg) if isinstance(arg, list) else [arg]


def _number(value: Any, name: str, file: str | None, line: int | None) -> float:
    try:
        return float(value) if not isinstance(value, bool) else float(int(value))
    except (TypeError, ValueError):
        raise RuleError(f"'{name}' needs a number, got {value!r}", file, line) from None


def _as_int(data: Any) -> Any:
    if pa.types.is_integer(data.type) or pa.types.is_floating(data.type):
        return data
    return (
        pc.cast(data, pa.float64(), safe=False)
        if not pa.types.is_string(data.type)
        else pc.cast(
            pc.if_else(pc.match_substring_regex(data, r"^-?\d+(\.\d+)?$"), data, None), pa.float64()
        )
    )


def _numeric(name: str, op: str, arg: Any, file: str | None, line: int | None) -> Mask:
    value = _number(arg, name, file, line)
    fn = {
        "gt": pc.greater,
        "gte": pc.greater_equal,
        "lt": pc.less,
        "lte": pc.less_equal,
        "eq": pc.equal,
    }[op]
    return lambda fr: _to_mask(fn(_as_int(column(fr, name)), value))


def _string(
    name: str, op: str, arg: Any, ignore_case: bool, file: str | None, line: int | None
) -> Mask:
    values = [str(v) for v in _as_list(arg)]
    if not values:
        raise RuleError(f"'{op}' on '{name}' needs at least one value", file, line)
    if op in ("equals", "in", "ne") and not ignore_case:
        value_set = pa.array(values, pa.string())

        def m(fr: pd.DataFrame) -> np.ndarray:
            return _to_mask(pc.is_in(_as_str(column(fr, name)), value_set=value_set))

        return m if op != "ne" else _negate(m)
    pattern = _regex_for(op, values, ignore_case, name, file, line)

    def regex(fr: pd.DataFrame) -> np.ndarray:
        return _to_mask(pc.match_substring_regex(_as_str(column(fr, name)), pattern))

    return regex if op != "ne" else _negate(regex)


def _as_str(data: Any) -> Any:
    return (
        data
        if pa.types.is_string(data.type) or pa.types.is_large_string(data.type)
        else pc.cast(data, pa.string())
    )


def _regex_for(
    op: str, values: list[str], ignore_case: bool, name: str, file: str | None, line: int | None
) -> str:
    if op == "regex":
        alts = values
    elif op == "wildcard":
        alts = [
            "^" + ".*".join(re.escape(p) for p in v.split("*")).replace(r"\?", ".") + "$"
            for v in values
        ]
    else:
        escaped = [re.escape(v) for v in values]
        alts = {
            "equals": [f"^{e}$" for e in escaped],
            "in": [f"^{e}$" for e in escaped],
            "ne": [f"^{e}$" for e in escaped],
            "contains": escaped,
            "startswith": [f"^{e}" for e in escaped],
            "endswith": [f"{e}$" for e in escaped],
        }[op]
    pattern = "|".join(f"(?:{a})" for a in alts)
    if ignore_case:
        pattern = "(?i)" + pattern
    try:
        pc.match_substring_regex(pa.array([""]), pattern)  # RE2 compiles it or says why
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise RuleError(
            f"invalid regex on '{name}' (RE2 syntax, linear time): {exc}", file, line
        ) from None
    return pattern


def _cidr(name: str, arg: Any, file: str | None, line: int | None) -> Mask:
    try:
        nets = [ipaddress.ip_network(str(v), strict=False) for v in _as_list(arg)]
    except ValueError as exc:
        raise RuleError(f"bad CIDR on '{name}': {exc}", file, line) from None

    def run(fr: pd.DataFrame) -> np.ndarray:
        data = _as_str(column(fr, name))
        uniques = pc.unique(data).drop_null().to_pylist()
        hits = [u for u in uniques if _in_nets(u, nets)]
        return _to_mask(pc.is_in(data, value_set=pa.array(hits, pa.string())))

    return run


def _in_nets(value: str, nets: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in nets)
