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
    """

    def __init__(self) -> None:
        self._seen: dict[str, pd.Series] = {}

    def ids(self, path: str, raw: pa.Array) -> pa.Array:
        texts = np.asarray(raw.to_numpy(zero_copy_only=False), dtype=object)
        line_hash = pd.util.hash_array(texts, hash_key=_KEY)
        occurrence = self._occurrences(path, pd.Series(line_hash))
        # two 64-bit words: the column order changes the mix, so one string hash serves both
        words = [
            pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()
            for cols in ({"h": line_hash, "o": occurrence}, {"o": occurrence, "h": line_hash})
        ]
        return _hex(np.stack(words, axis=1))

    def _occurrences(self, path: str, h: pd.Series) -> np.ndarray:
        prior = self._seen.get(path, pd.Series(dtype="int64"))
        before = h.map(prior).fillna(0).astype("int64").to_numpy()
        self._seen[path] = prior.add(h.value_counts(), fill_value=0).astype("int64")
        return h.groupby(h).cumcount().to_numpy() + before


def _hex(words: np.ndarray) -> pa.Array:
    """(n, k) uint64 -> n lowercase hex strings of 16*k chars, without a Python loop."""
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
