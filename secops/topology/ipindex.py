"""Vectorised lookups: IP -> longest-prefix entry, host name -> asset.

Every lookup factorizes its column first, so work is per distinct value, and the IPv4 path is
numpy only: addresses as uint32, one masked `searchsorted` per prefix length present.
IPv6 (rare in practice) is matched per distinct value with Python ints.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STRING = pd.ArrowDtype(pa.string())

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: a canonical dotted-quad IPv4 address: each octet 0-255, no leading zeros
_V4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_V4_RE = re.compile(_V4)


def canonical_ip(text: str) -> str:
    """The address as `ipaddress` writes it (ValueError when it is none); a canonical dotted
    quad, the common case, is returned as it is without parsing."""
    text = text.strip()
    return text if _V4_RE.fullmatch(text) else str(ipaddress.ip_address(text))


def factorize(values: pd.Series) -> tuple[np.ndarray, pa.StringArray]:
    """codes (-1 for null) and the distinct values as an Arrow string array."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_string(values.dtype.pyarrow_dtype):
        arr = pa.array(uniques)
    else:
        arr = pa.array([str(u) for u in uniques], type=pa.string())
    return np.asarray(codes, dtype=np.int64), arr.cast(pa.string())


def parse_v4(texts: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """(uint32 addresses, valid mask) for dotted-quad IPv4 strings, vectorised."""
    valid = pc.match_substring_regex(texts, _V4).fill_null(False).to_numpy(zero_copy_only=False)
    out = np.zeros(len(texts), dtype=np.uint32)
    if valid.any():
        good = texts.filter(pa.array(valid))
        octets = pc.split_pattern(good, ".").flatten().cast(pa.uint32()).to_numpy()
        o = octets.reshape(-1, 4)
        out[valid] = (o[:, 0] << 24) | (o[:, 1] << 16) | (o[:, 2] << 8) | o[:, 3]
    return out, valid


def _mask_v4(length: int) -> int:
    return (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length else 0


def _parse_one(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _split(entries: Iterable[tuple[str, int]]) -> tuple[list[str], np.ndarray]:
    pairs = list(entries)
    values = np.fromiter((v for _, v in pairs), dtype=np.int64, count=len(pairs))
    return [n for n, _ in pairs], values


def _parse_v4_networks(networks: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint32 address, prefix length, parsed) for `a.b.c.d` and `a.b.c.d/len` spellings,
    vectorised; the rest (IPv6, netmask forms, anything odd) is left to `ipaddress`."""
    parts = [n.partition("/") for n in networks]
    addrs, valid = parse_v4(pa.array([p[0] for p in parts], type=pa.string()))
    lengths = np.array(
        [
            int(p[2])
            if p[2].isascii() and p[2].isdigit() and len(p[2]) <= 2
            else (32 if not p[1] else -1)
            for p in parts
        ],
        dtype=np.int64,
    )
    return addrs, lengths, valid & (lengths >= 0) & (lengths <= 32)


class PrefixTable:
    """Longest-prefix match from networks to integer values (an exact match is a /32 or /128)."""

    def __init__(self, entries: Iterable[tuple[str, int]]) -> None:
        v4: dict[int, dict[int, int]] = {}
        v6: dict[int, dict[int, int]] = {}
        networks, values = _split(entries)
        addrs, lengths, fast = _parse_v4_networks(networks)
        for length in np.unique(lengths[fast]).tolist():
            sel = fast & (lengths == length)
            masked = addrs[sel] & np.uint32(_mask_v4(length))
            v4[length] = dict(zip(masked.tolist(), values[sel].tolist(), strict=True))
        for i in np.flatnonzero(~fast).tolist():  # IPv6 and unusual IPv4 spellings
            net = ipaddress.ip_network(networks[i], strict=False)
            table = v4 if net.version == 4 else v6
            table.setdefault(net.prefixlen, {})[int(net.network_address)] = int(values[i])
        self._v4 = v4
        self._v6 = v6
        # prefix length -> (sorted network uint32, values), longest first
        self._v4_arrays = []
        for length in sorted(v4, reverse=True):
            nets = np.fromiter(v4[length], dtype=np.uint32, count=len(v4[length]))
            vals = np.fromiter(v4[length].values(), dtype=np.int64, count=len(v4[length]))
            order = np.argsort(nets)
            self._v4_arrays.append((np.uint32(_mask_v4(length)), nets[order], vals[order]))
        self._lengths = {4: sorted(v4, reverse=True), 6: sorted(v6, reverse=True)}

    def __len__(self) -> int:
        return sum(map(len, self._v4.values())) + sum(map(len, self._v6.values()))

    def lookup_one(self, text: str | None) -> int:
        """Value of the longest prefix holding `text`, -1 when none (or not an IP)."""
        ip = _parse_one(text) if isinstance(text, str) else None
        if ip is None:
            return -1
        tables, bits = (self._v4, 32) if ip.version == 4 else (self._v6, 128)
        n = int(ip)
        for length in self._lengths[ip.version]:
            mask = ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
            hit = tables[length].get(n & mask)
            if hit is not None:
                return hit
        return -1

    def lookup_v4(self, addrs: np.ndarray) -> np.ndarray:
        out = np.full(len(addrs), -1, dtype=np.int64)
        todo = np.arange(len(addrs))
        for mask, nets, vals in self._v4_arrays:
            if not len(todo):
                break
            masked = addrs[todo] & mask
            pos = np.searchsorted(nets, masked).clip(max=len(nets) - 1)
            hit = nets[pos] == masked
            out[todo[hit]] = vals[pos[hit]]
            todo = todo[~hit]
        return out

    def lookup_many(
        self, texts: pa.StringArray, v4: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """Value index per string (-1 for none), IPv4 vectorised, the rest per value.
        `v4`: the strings already parsed by `parse_v4`."""
        addrs, valid = parse_v4(texts) if v4 is None else v4
        out = np.full(len(texts), -1, dtype=np.int64)
        out[valid] = self.lookup_v4(addrs[valid])
        rest = np.flatnonzero(~valid)
        if len(rest) and (self._v6 or self._v4):
            others = texts.take(pa.array(rest)).to_pylist()
            out[rest] = [self.lookup_one(t) if t and ":" in t else -1 for t in others]
        return out


def take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    """values[idx], null where idx is -1."""
    missing = idx < 0
    if not len(values):
        return pa.nulls(len(idx), values.type)
    return pc.take(values, pa.array(np.where(missing, 0, idx), mask=missing))


def take_index(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """values[idx] for an int64 array, -1 where idx is -1."""
    if not len(values):
        return np.full(len(idx), -1, dtype=np.int64)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], -1)


class Distinct:
    """A column's distinct values, found once: lookups answer per distinct value (a batch of
    events holds far fewer distinct addresses or host names than rows), then `expand` takes
    the answers back to the rows."""

    def __init__(self, values: pd.Series) -> None:
        self.codes, self.texts = factorize(values)
        self.index = values.index

    @functools.cached_property
    def v4(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct values as IPv4 (uint32 addresses, valid mask), parsed once."""
        return parse_v4(self.texts)

    def expand(self, per_value: pa.Array) -> pd.Series:
        """Row i gets per_value[codes[i]]: a string Series, null where the row was null."""
        return pd.Series(
            pd.arrays.ArrowExtensionArray(take(per_value, self.codes)),
            index=self.index,
            dtype=STRING,
        )


class HostIndex:
    """Host name -> asset index: case-insensitive, full name first, then the short name."""

    def __init__(self, aliases: Iterable[tuple[str, int]]) -> None:
        full: dict[str, int] = {}
        short: dict[str, set[int]] = {}
        for alias, value in aliases:
            key = _norm(alias)
            full.setdefault(key, value)
            short.setdefault(key.split(".", 1)[0], set()).add(value)
        # a short name that two assets share is ambiguous: it matches neither
        for key, values in short.items():
            if len(values) == 1 and key not in full:
                full[key] = next(iter(values))
        self.lookup = full
        self._keys = pa.array(list(full), type=pa.string())
        self._vals = np.fromiter(full.values(), dtype=np.int64, count=len(full))

    def lookup_one(self, name: str | None) -> int:
        if not isinstance(name, str) or not name.strip():
            return -1
        key = _norm(name)
        hit = self.lookup.get(key)
        return self.lookup.get(key.split(".", 1)[0], -1) if hit is None else hit

    def lookup_many(self, texts: pa.StringArray) -> np.ndarray:
        """Value index per host name (-1 for none)."""
        if not len(self._keys):
            return np.full(len(texts), -1, dtype=np.int64)
        keys = pc.utf8_rtrim(pc.utf8_trim_whitespace(pc.utf8_lower(texts)), characters=".")
        out = self._find(keys)
        miss = out < 0
        if miss.any():
            shorts = pc.list_element(pc.split_pattern(keys, ".", max_splits=1), 0)
            out[miss] = self._find(shorts)[miss]
        return out

    def _find(self, keys: pa.Array) -> np.ndarray:
        pos = pc.index_in(keys, value_set=self._keys).fill_null(-1).to_numpy(zero_copy_only=False)
        pos = np.asarray(pos, dtype=np.int64)
        return np.where(pos >= 0, self._vals[np.maximum(pos, 0)], -1)


def _norm(name: str) -> str:
    return name.strip().lower().rstrip(".")
