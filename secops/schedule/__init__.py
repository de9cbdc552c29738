"""Scheduled runs: one shot of `secops run` (for cron or a systemd timer).

    lock -> read new lines of the tracked files -> spool them -> correlate the window
    [resume point, now - settle] from the spool -> write the findings that changed to every sink
    -> advance the checkpoint (only when every sink acknowledged)

Public surface: `RunSettings`, `run_once`, `RunOutcome`, `LockHeld`, the exit codes.
"""

from secops.schedule.lock import EX_TEMPFAIL, LockHeld, RunLock
from secops.schedule.run import (
    EXIT_CONFIG,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_SINK,
    RunOutcome,
    RunSettings,
    run_once,
)

EXIT_LOCKED = EX_TEMPFAIL

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FINDINGS",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_SINK",
    "LockHeld",
    "RunLock",
    "RunOutcome",
    "RunSettings",
    "run_once",
]
