"""The run state: checkpoint, resume point and what was read of every tracked file.

One JSON file, replaced atomically (temp + fsync + rename). It changes in two steps of a run:
after the files were spooled (the file offsets) and after every sink acknowledged (the
checkpoint). A run killed between or during steps leaves the previous, consistent state.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from secops.errors import ConfigError

VERSION = 1


@dataclass
class FileState:
    """One tracked file, known by device + inode and by a fingerprint of its first bytes."""

    path: str
    dev: int
    ino: int
    offset: int = 0  # bytes consumed (of the decompressed stream for .gz)
    lines: int = 0  # lines consumed
    fp: str = ""  # sha256 of the first fp_len bytes
    fp_len: int = 0
    seen: str | None = None  # file (in the state dir) with the event-id occurrence counts

    @property
    def key(self) -> str:
        return f"{self.dev}-{self.ino}"


@dataclass
class State:
    checkpoint_ms: int | None = None  # end of the last window every sink acknowledged
    resume_ms: int | None = None  # where the next run must start reading (open episodes)
    files: dict[str, FileState] = field(default_factory=dict)
    runs: int = 0
    ingest_gen: int = 0  # names the spool files of the next ingest (re-done after a crash)

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["version"] = VERSION
        return doc


def load_state(path: Path) -> State:
    if not path.exists():
        return State()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = {k: FileState(**v) for k, v in doc.get("files", {}).items()}
        return State(
            doc.get("checkpoint_ms"),
            doc.get("resume_ms"),
            files,
            doc.get("runs", 0),
            doc.get("ingest_gen", 0),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"unreadable run state ({exc}); move it away to start over", str(path)
        ) from None


def save_state(path: Path, state: State) -> None:
    write_text_atomic(path, json.dumps(state.to_dict(), indent=1, sort_keys=True))


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
