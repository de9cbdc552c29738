"""One run at a time: an exclusive, non-blocking flock on `<state dir>/run.lock`.

The kernel drops a flock when its holder dies (even by kill -9), so a crashed run never
leaves a lock that blocks the next one; the file's content (pid, start time) is only for the
message. The descriptor is not inherited by child processes (Python opens it close-on-exec).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from secops.errors import SecopsError

EX_TEMPFAIL = 75


class LockHeld(SecopsError):
    exit_code = EX_TEMPFAIL


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeld(
                f"another run holds the lock ({holder}); this run exits, the next one catches up",
                str(self.path),
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}".encode(),
            0,
        )
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
