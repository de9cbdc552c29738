"""JSON lines: one finding document per line (the same document Elasticsearch indexes).

`secops correlate --output` rewrites its file per run (temp file + rename); a scheduled run
(`append=True`) adds to it instead, so the file is the history of every finding version. A
finding that grows appears again with the same `finding.id` (the latest line wins); a run
re-done after a crash may repeat lines.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secops.errors import SinkError


class JsonlSink:
    name = "jsonl"

    def __init__(self, path: str | Path, append: bool = False) -> None:
        self.path = Path(path)
        self.append = append

    def write(self, findings: Iterable[dict[str, Any]]) -> int:
        """Write all findings, fsync'd: atomically, or appended; '-' (not appended) writes to
        stdout."""
        lines = [json.dumps(f, sort_keys=True, default=str) + "\n" for f in findings]
        if str(self.path) == "-" and not self.append:
            sys.stdout.writelines(lines)
            return len(lines)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = self.path if self.append else self.path.with_name(f".{self.path.name}.tmp")
            with open(target, "a" if self.append else "w", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
            if not self.append:
                os.replace(target, self.path)
        except OSError as exc:
            verb = "append" if self.append else "write"
            raise SinkError(f"cannot {verb} findings: {exc}", str(self.path)) from None
        return len(lines)
