"""JSON lines: one finding document per line (the same document Elasticsearch indexes)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secops.errors import SinkError


class JsonlSink:
    name = "jsonl"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, findings: Iterable[dict[str, Any]]) -> int:
        """Write all findings atomically (temp file + rename); '-' writes to stdout."""
        lines = [json.dumps(f, sort_keys=True, default=str) + "\n" for f in findings]
        if str(self.path) == "-":
            import sys

            sys.stdout.writelines(lines)
            return len(lines)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            with open(tmp, "w", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise SinkError(f"cannot write findings: {exc}", str(self.path)) from None
        return len(lines)
