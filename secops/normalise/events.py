"""Finishing touches shared by every parser: stable event ids and field templates."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.normalise.definitions import Template

_HEX = pa.array([f"{i:02x}" for i in range(256)], pa.string())
_KEY = "secops-event-id1"


class EventIds:
    """Stable ids: hash(raw line, occurrence number of that raw line within its input).

    Occurrences are counted across batches of the same input, so identical lines in one file
    (e.g. a repeated "Connection closed") get different ids, and re-reading gives the same ids.
    Callers pass the lines that became events: identical lines parse alike, so counting among
    them gives the same occurrence numbers as counting among all lines.
    """

    def __init__(self) -> None:
        self._seen: dict[str, _Counts] = {}

    def ids(self, path: str, raw: pa.Array, rows: pa.Array | None = None) -> pa.Array:
        """Ids of the lines `raw` (of those at `rows` when given), in input order."""
        return self.from_hashes(path, line_hashes(raw if rows is None else pc.take(raw, rows)))

    def from_hashes(self, path: str, line_hash: np.ndarray) -> pa.Array:
        """Ids for lines given by `line_hashes`, in input order (call in input order)."""
        return event_ids(line_hash, self.occurrences(path, line_hash))

    def occurrences(
        self, path: str, line_hash: np.ndarray, times: np.ndarray | None = None
    ) -> np.ndarray:
        """How often each line was seen before in `path` (call in input order); `times` (ms,
        the lines' event times) let `forget` drop lines of the past."""
        return self._seen.setdefault(path, _Counts()).occurrences(line_hash, times)

    def forget(self, before_ms: int) -> None:
        """Forget lines whose event time is before `before_ms`, in every input: a reader
        that stops (and starts again from scratch) when an event that old comes in can
        never need their counts, and memory stays bounded by the lines of the recent past."""
        for counts in self._seen.values():
            counts.forget(before_ms)


def event_ids(line_hash: np.ndarray, occurrence: np.ndarray) -> pa.Array:
    """The id of each (line hash, occurrence number): 32 hex characters."""
    # two 64-bit words: the column order changes the mix, so one string hash serves both
    words = [
        pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()
        for cols in ({"h": line_hash, "o": occurrence}, {"o": occurrence, "h": line_hash})
    ]
    return _hex(np.stack(words, axis=1))


class LineHashes:
    """Stands in for EventIds where lines are parsed out of order (worker processes): keeps
    the raw lines of the last call and returns null ids; the caller hashes only the events it
    keeps (`hash_rows`) and `EventIds.from_hashes` numbers them later, in input order.

    Hashing only kept rows gives the same occurrence numbers: identical lines parse and are
    kept alike, so counting among the kept lines counts among all of them."""

    def __init__(self) -> None:
        self._raw = pa.array([], pa.string())
        self._rows = pa.array([], pa.int64())

    def ids(self, path: str, raw: pa.Array, rows: pa.Array) -> pa.Array:
        self._raw, self._rows = raw, rows
        return pa.nulls(len(rows), pa.string())

    def hash_rows(self, positions: np.ndarray) -> np.ndarray:
        """Line hashes of the last call's events at `positions`."""
        return line_hashes(pc.take(self._raw, pc.take(self._rows, pa.array(positions, pa.int64()))))


def line_hashes(raw: pa.Array) -> np.ndarray:
    """64-bit keyed hash of each line's UTF-8 bytes. Handing pandas bytes objects (not str)
    gives the same hashes without encoding every line again: half the time."""
    texts = np.asarray(raw.cast(pa.binary()).to_numpy(zero_copy_only=False), dtype=object)
    return pd.util.hash_array(texts, hash_key=_KEY)


class _Counts:
    """How often each line hash was seen: sorted runs merged like a binary counter, so a file
    of n lines costs O(n log n) in total (a single growing table re-merged per batch is
    quadratic)."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # keys, counts, times

    def occurrences(self, h: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        if len(h) == 0:  # a chunk that kept no event (a long stretch no rule reads)
            return np.zeros(0, dtype=np.int64)
        keys, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        within = np.empty(len(h), dtype=np.int64)
        within[order] = np.arange(len(h)) - np.repeat(starts, counts)
        out = within + self._prior(keys)[inverse]
        latest = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
        if times is not None:  # identical lines share their time; the latest is kept anyway
            latest = np.full(len(keys), np.iinfo(np.int64).min, dtype=np.int64)
            np.maximum.at(latest, inverse, times)
        self._add(keys, counts.astype(np.int64), latest)
        return out

    def forget(self, before_ms: int) -> None:
        """Drop the lines whose time is before `before_ms` (lines counted without a time
        stay): for a reader that never sees such a line again."""
        self._runs = [
            (k[keep], c[keep], t[keep]) for k, c, t in self._runs if (keep := t >= before_ms).any()
        ]

    def _prior(self, keys: np.ndarray) -> np.ndarray:
        total = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_counts, _ in self._runs:
            pos = np.searchsorted(run_keys, keys).clip(max=len(run_keys) - 1)
            hit = run_keys[pos] == keys
            total[hit] += run_counts[pos[hit]]
        return total

    def _add(self, keys: np.ndarray, counts: np.ndarray, times: np.ndarray) -> None:
        while self._runs and len(self._runs[-1][0]) <= 2 * len(keys):
            old_keys, old_counts, old_times = self._runs.pop()
            merged, inverse = np.unique(np.concatenate([old_keys, keys]), return_inverse=True)
            old, new = inverse[: len(old_keys)], inverse[len(old_keys) :]  # each run is unique
            total = np.zeros(len(merged), dtype=np.int64)
            total[old] = old_counts
            total[new] += counts
            latest = np.full(len(merged), np.iinfo(np.int64).min, dtype=np.int64)
            latest[old] = old_times
            latest[new] = np.maximum(latest[new], times)
            keys, counts, times = merged, total, latest
        if len(keys):
            self._runs.append((keys, counts, times))


def _hex(words: np.ndarray) -> pa.Array:
    """(n, k) uint64 -> n lowercase hex strings of 16*k chars, without a Python loop."""
    if len(words) == 0:
        return pa.array([], pa.string())
    octets = words.astype(">u8").view(np.uint8).reshape(len(words), -1)
    cols = [pc.take(_HEX, pa.array(octets[:, i].astype(np.int64))) for i in range(octets.shape[1])]
    if not cols:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*cols, "")


def render(template: Template, cols: Mapping[str, pa.Array], n: int) -> pa.Array:
    """A template's value per row; `{name}` reads column `name` (or `_name`), null if absent."""
    pieces: list[pa.Array] = []
    for is_ref, text in template.parts():
        if not is_ref:
            pieces.append(pa.repeat(pa.scalar(text, pa.string()), n))
            continue
        col = cols.get(text, cols.get(f"_{text}"))
        pieces.append(col.cast(pa.string()) if col is not None else pa.nulls(n, pa.string()))
    if len(pieces) == 1:
        return pieces[0]
    return pc.binary_join_element_wise(*pieces, "")
