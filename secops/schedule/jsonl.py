"""JSON lines for scheduled runs: appended (one line per finding version), fsync'd.

`secops correlate --output` rewrites its file per run; a scheduled run adds to it instead,
so the file is the history of every finding version. A finding that grows appears again with
the same `finding.id` (the latest line wins); a run re-done after a crash may repeat lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secops.errors import SinkError


class AppendJsonlSink:
    name = "jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, findings: Iterable[dict[str, Any]]) -> int:
        lines = [json.dumps(f, sort_keys=True, default=str) + "\n" for f in findings]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise SinkError(f"cannot append findings: {exc}", str(self.path)) from None
        return len(lines)
