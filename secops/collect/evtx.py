"""Windows `.evtx` files: one JSON object per event record, as the `{"Event": {...}}` shape.

An input whose first bytes are the EVTX file magic (`ElfFile\\0`) is read with the `evtx`
package (Rust bindings of the `evtx` crate: multi-threaded, handles dirty and truncated files)
instead of as text. Each record becomes one compact JSON "line" holding the record as Windows
renders it (`{"Event": {"System": ..., "EventData" | "UserData": ...}}`); line numbers are
record positions (1-based). A record or chunk the reader cannot decode becomes a line naming
the error, which no parser knows, so it is counted and dead-lettered, never dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow as pa

EVTX_MAGIC = b"ElfFile\x00"
#: the line standing for a record the reader could not decode (dead-lettered downstream)
UNREADABLE = "evtx: unreadable record or chunk: "


def is_evtx(head: bytes) -> bool:
    return head[: len(EVTX_MAGIC)] == EVTX_MAGIC


def evtx_lines(stream: BinaryIO) -> Iterator[str]:
    """One compact JSON text per record of the EVTX file read from `stream`."""
    from evtx import PyEvtxParser  # imported here: only .evtx inputs need the extension

    source = stream if stream.seekable() else io.BytesIO(stream.read())
    try:
        records = PyEvtxParser(source).records_json()
    except (RuntimeError, OSError, ValueError) as exc:  # a header the reader refuses
        yield UNREADABLE + str(exc)
        return
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (RuntimeError, OSError, ValueError) as exc:
            yield UNREADABLE + str(exc).replace("\n", " ")
            continue
        # the reader pretty-prints; a newline there is never inside a JSON string
        yield str(record["data"]).replace("\n", "")  # type: ignore[index]


def evtx_batches(stream: BinaryIO, batch_lines: int) -> Iterator[tuple[int, pa.Array]]:
    """(first line number, lines) batches of at most `batch_lines` records."""
    pending: list[str] = []
    first = 1
    for line in evtx_lines(stream):
        pending.append(line)
        if len(pending) >= batch_lines:
            yield first, pa.array(pending, pa.string())
            first += len(pending)
            pending = []
    if pending:
        yield first, pa.array(pending, pa.string())
