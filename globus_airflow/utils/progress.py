"""Progress lines for the task log: one when something changed, a heartbeat otherwise."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

PROGRESS_FIELDS = (
    "status",
    "nice_status",
    "files",
    "files_transferred",
    "files_skipped",
    "bytes_transferred",
    "bytes_checksummed",
    "faults",
)
"""Task document fields whose change is worth a log line."""


def format_bytes(count: float) -> str:
    """Format a byte count with a binary unit, e.g. ``1.5 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def describe_progress(task: Mapping[str, Any]) -> str:
    """Describe a task's state and counters in one line."""
    done = (task.get("files_transferred") or 0) + (task.get("files_skipped") or 0)
    rate = task.get("effective_bytes_per_second") or 0
    nice = task.get("nice_status")
    state = f"{task['status']} ({nice})" if nice else task["status"]
    return (
        f"Globus task {task['task_id']} {state}: {done} of {task.get('files') or 0} files, "
        f"{format_bytes(task.get('bytes_transferred') or 0)}, {format_bytes(rate)}/s"
    )


class ProgressReporter:
    """Log a task's progress when it changes, and a heartbeat when it does not.

    :param logger: where the lines go, at INFO
    :param heartbeat_interval: seconds between heartbeat lines while nothing
        changes; ``None`` turns heartbeats off
    :param clock: monotonic clock in seconds, replaceable in tests
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        heartbeat_interval: float | None = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._heartbeat_interval = heartbeat_interval
        self._clock = clock
        self._last_signature: tuple[Any, ...] | None = None
        self._last_line_at = clock()

    def report(self, task: Mapping[str, Any]) -> bool:
        """Log a line if the task changed or a heartbeat is due; return whether it logged."""
        signature = tuple(task.get(field) for field in PROGRESS_FIELDS)
        now = self._clock()

        if signature != self._last_signature:
            self._last_signature = signature
            self._last_line_at = now
            self._logger.info("%s", describe_progress(task))
            return True

        interval = self._heartbeat_interval
        if interval is not None and now - self._last_line_at >= interval:
            self._last_line_at = now
            self._logger.info(
                "Globus task %s unchanged for %.0f s: %s",
                task["task_id"],
                interval,
                describe_progress(task),
            )
            return True
        return False
