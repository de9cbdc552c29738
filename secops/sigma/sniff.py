"""Tell a Sigma file or a Sigma overlay from a native rule by its top-level keys (cheap: no
YAML parse, no pySigma import), so the rule loader can route files."""

from __future__ import annotations

import re
from pathlib import Path

_SIGMA = re.compile(r"^(?:detection|correlation|logsource)\s*:", re.MULTILINE)
_OVERLAY = re.compile(r"^overlay\s*:\s*['\"]?sigma['\"]?\s*(?:#.*)?$", re.MULTILINE)


def sniff(path: str | Path) -> str | None:
    """'sigma', 'overlay', or None (a native rule, or unreadable: the native loader reports)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if _OVERLAY.search(text):
        return "overlay"
    if _SIGMA.search(text):
        return "sigma"
    return None
