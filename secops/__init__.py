"""secops: security-operations event correlation engine.

Data flow (one direction): collect -> normalise -> enrich -> correlate -> judge -> score -> sink.
`secops.pipeline` is the one place where that order is visible.
"""

__version__ = "0.1.0"
