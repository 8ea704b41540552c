"""Tell a stalled Globus task from a slow one.

Most errors do not fail a Globus task: a missing file, a denied permission
or a full disk leave it ACTIVE, retrying with a ``nice_status`` that names
the problem, until its deadline (24 hours or more). A wait that watched only
``status`` would sit there for a day. This module classifies ``nice_status``
codes and measures how long a task has gone without progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

HEALTHY_CODES = frozenset({"OK", "Queued", None})
"""``nice_status`` values of a task that is working or waiting its turn.

Globus runs at most three transfer tasks per identity at a time and queues
the rest with ``nice_status`` "Queued", so a queued task is never a stall.
"""

TRANSIENT_CODES = frozenset(
    {
        "CONNECT_FAILED",
        "CONNECTION_BROKEN",
        "CONNECTION_RESET",
        "ENDPOINT_TOO_BUSY",
        "ENDPOINT_ERROR",
        "TIMEOUT",
        "GC_NOT_CONNECTED",
        "GC_PAUSED",
        "INTERNAL_ERROR",
        "UNKNOWN",
        "CLOCK",
        "VERIFY_CHECKSUM",
        "FILE_SIZE_CHANGED",
    }
)
"""Codes of faults that Globus retries and that usually clear on their own."""

NEEDS_HUMAN_CODES = frozenset(
    {
        "PERMISSION_DENIED",
        "FILE_NOT_FOUND",
        "AMBIGUOUS_PATH",
        "QUOTA_EXCEEDED",
        "NO_SPACE_LEFT",
        "AUTH",
        "NO_CREDENTIALS",
        "INVALID_SERVICE_CREDENTIAL",
        "ACL_CHANGED",
        "GSI_DN_MISMATCH",
        "PAUSED",
        "IS_A_DIRECTORY",
        "IS_A_FILE",
        "NOT_A_DIRECTORY",
        "NOT_A_FILE",
        "INVALID_PATH_NAME",
        "INVALID_SYMLINK",
        "NOT_A_SYMLINK",
    }
)
"""Codes of faults that keep a task retrying until someone fixes their cause.

NOTE: Globus documents which errors are skippable but not this split; it is
the provider's own reading of the event codes.
"""

PROGRESS_FIELDS = (
    "bytes_transferred",
    "bytes_checksummed",
    "files_transferred",
    "files_skipped",
    "subtasks_succeeded",
)
"""Counters whose growth means the task is making progress."""

DEFAULT_STALL_TIMEOUT = 1800.0
"""Seconds without progress, under a fault that needs a human, before the wait fails."""


def fault_code(task: Mapping[str, Any]) -> str | None:
    """Return the fault code of an ACTIVE task, or ``None`` when it is healthy.

    A task paused by an administrator reports ``PAUSED`` whatever its ``nice_status``.
    """
    if task.get("is_paused"):
        return "PAUSED"
    code = task.get("nice_status")
    return None if code in HEALTHY_CODES else code


def needs_human(code: str | None) -> bool:
    """Return whether a fault code keeps the task stuck until someone acts.

    Codes that are neither known transient nor known to need a human count as
    transient, so an unfamiliar code only ever produces warnings.
    """
    return code in NEEDS_HUMAN_CODES


class StallMonitor:
    """Measure how long a task has gone without progress.

    Progress is growth of any counter in :data:`PROGRESS_FIELDS`. The
    measurement lives in memory, so it starts again when the waiting process
    restarts; a restart can only delay a stall failure, never cause one.

    :param clock: monotonic clock in seconds, replaceable in tests
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._signature: tuple[Any, ...] | None = None
        self._last_progress_at = clock()

    def observe(self, task: Mapping[str, Any]) -> float:
        """Record one reading of the task; return seconds since it last made progress."""
        signature = tuple(task.get(field) or 0 for field in PROGRESS_FIELDS)
        now = self._clock()
        if signature != self._signature:
            self._signature = signature
            self._last_progress_at = now
        return now - self._last_progress_at
