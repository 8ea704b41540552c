"""The calls a running task makes between steps: checkpoints, counters, faults and retries.

Copy and delete jobs do their filesystem work without the state lock and use a
:class:`TaskControl` for everything that touches shared state. Each call checks
first that the task may still go on, so a cancel, an expired deadline, a stop of
the service or :meth:`LocalGlobusService.hold_tasks` takes effect at the next step.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from globus_airflow.testing.state import ServiceState
from globus_airflow.testing.tasks import (
    EventRecord,
    Interruption,
    ItemFault,
    ServiceStopping,
    TaskCanceled,
    TaskExpired,
    TaskRecord,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A running task adds a PROGRESS event at most this often, in service-clock seconds,
# and always one just before SUCCEEDED.
PROGRESS_EVENT_INTERVAL = 10.0


def stall_event_details(task: TaskRecord, stall: Interruption) -> str:
    """Return the ``details`` of a stall's error event.

    With a path, this is JSON shaped like the details Globus writes for a
    fault: ``{"context": [{"operation": ..., "path": ...}], "error": {...}}``.
    Without one, it is the stall's description.

    NOTE: the operation name (the task type in lower case) and the fields of
    ``error`` are guesses; Transfer does not document them.
    """
    if stall.path is None:
        return stall.description
    return json.dumps(
        {
            "context": [{"operation": task.type.lower(), "path": stall.path}],
            "error": {"code": stall.nice_status, "details": stall.description},
        }
    )


def record_stall_fault(state: ServiceState, task: TaskRecord) -> None:
    """Count one fault of a stalled task, add its error event and set the next one's time.

    Call with the state lock held and ``task.stall`` set.
    """
    stall = task.stall
    assert stall is not None
    now = state.now()
    task.faults += 1
    task.events.append(
        EventRecord(
            code=stall.nice_status,
            description=stall.description,
            details=stall_event_details(task, stall),
            is_error=True,
            time=now,
        )
    )
    task.next_stall_fault_at = now + state.retry_interval
    state.notify()


class Skipped:
    """Marker returned by :meth:`TaskControl.retry` when ``skip_source_errors`` skipped a step."""


SKIPPED = Skipped()


class TaskControl:
    """Step helpers for the runner of one task; every method takes the state lock."""

    def __init__(self, state: ServiceState, task: TaskRecord) -> None:
        self.state = state
        self.task = task
        self._last_progress_event = state.now()
        self._throttle_start = time.monotonic()
        self._throttle_bytes = 0

    # -- checks ------------------------------------------------------------------

    def _raise_if_stopped(self) -> None:
        """Raise when the task must not go on; call with the lock held."""
        if self.state.stopping:
            raise ServiceStopping()
        if self.task.is_finished:
            raise TaskCanceled()
        if self.state.now() >= self.task.deadline:
            raise TaskExpired()

    def _seconds_to_deadline(self) -> float:
        return max(self.task.deadline - self.state.now(), 0.0)

    def _wait_while_interrupted(self, *, include_hold: bool) -> bool:
        """Wait while the task is stalled, INACTIVE or paused (and, if asked, held).

        A stalled task gains a fault and an error event every ``retry_interval``
        service-clock seconds while it waits, as a retrying task does. Raise when
        the task must stop; return whether the call waited. Call with the lock held.
        """
        waited = False
        while True:
            self._raise_if_stopped()
            task = self.task
            due = task.next_stall_fault_at
            stall_counts = task.stall is not None and task.admin_pause is None and task.inactive is None
            if stall_counts and due is not None and self.state.now() >= due:
                record_stall_fault(self.state, task)
            if task.interruption is None and not (include_hold and self.state.held):
                return waited
            waited = True
            timeout = self._seconds_to_deadline()
            if stall_counts and task.next_stall_fault_at is not None:
                timeout = min(timeout, max(task.next_stall_fault_at - self.state.now(), 0.0))
            self.state.changed.wait(timeout=timeout)

    def checkpoint(self) -> bool:
        """Wait while tasks are held or this task is interrupted, then raise if it must stop.

        Return whether the call waited for a hold or an interruption to end.
        """
        with self.state.lock:
            return self._wait_while_interrupted(include_hold=True)

    # -- counters and events -------------------------------------------------------

    def add(self, **increments: int) -> None:
        """Add to the task's counters, such as ``files=1`` or ``bytes_transferred=n``.

        While the task is stalled, INACTIVE or paused, this waits, so the
        counters do not move.
        """
        with self.state.lock:
            self._wait_while_interrupted(include_hold=False)
            for name, amount in increments.items():
                setattr(self.task, name, getattr(self.task, name) + amount)
            self._maybe_progress_event()
            self.state.notify()

    def commit(self, action: Callable[[], None], **increments: int) -> None:
        """Run ``action`` and add ``increments`` atomically, unless the task must stop.

        Holding the lock across the action means a file renamed into place is
        never published after a cancel request returned.
        """
        with self.state.lock:
            self._wait_while_interrupted(include_hold=False)
            action()
            for name, amount in increments.items():
                setattr(self.task, name, getattr(self.task, name) + amount)
            self._maybe_progress_event()
            self.state.notify()

    def add_event(self, code: str, description: str, *, details: str = "", is_error: bool = False) -> None:
        """Append an event to the task's event list."""
        with self.state.lock:
            self.task.events.append(
                EventRecord(
                    code=code,
                    description=description,
                    details=details,
                    is_error=is_error,
                    time=self.state.now(),
                )
            )
            self.state.notify()

    def progress_details(self) -> str:
        """Return the JSON ``details`` of a PROGRESS event for the task's counters now.

        NOTE: Transfer's PROGRESS details are not documented field by field;
        these names match the task document's counters.
        """
        with self.state.lock:
            started = self.task.started_at or self.state.now()
            duration = max(self.state.now() - started, 0.0)
            return json.dumps(
                {
                    "bytes_transferred": self.task.bytes_transferred,
                    "files_transferred": self.task.files_transferred,
                    "files_skipped": self.task.files_skipped,
                    "duration": round(duration, 3),
                }
            )

    def _maybe_progress_event(self) -> None:
        now = self.state.now()
        if now - self._last_progress_event < PROGRESS_EVENT_INTERVAL:
            return
        self._last_progress_event = now
        self.add_event("PROGRESS", "progress", details=self.progress_details())

    # -- faults and retries ------------------------------------------------------------

    def retry(self, step: Callable[[], T]) -> T | Skipped:
        """Run ``step`` until it succeeds, retrying after each ItemFault.

        A fault on the source is skipped when the task has ``skip_source_errors``:
        the skip is counted in ``subtasks_skipped_errors`` and SKIPPED is returned.
        Other faults count in ``faults``, set ``nice_status`` to their code, add an
        error event and wait ``retry_interval`` service-clock seconds before the
        next try. The wait ends early when the task must stop.
        """
        while True:
            self.checkpoint()
            try:
                result = step()
            except ItemFault as fault:
                if fault.on_source and self.task.options.get("skip_source_errors"):
                    self._record_skip(fault)
                    return SKIPPED
                self._record_fault(fault)
                self._wait_for_retry()
                continue
            self._clear_fault()
            return result

    def _record_skip(self, fault: ItemFault) -> None:
        logger.info("task %s skipped %s: %s", self.task.task_id, fault.path, fault.code)
        self.add_event(
            fault.code,
            fault.description,
            details=json.dumps({"path": fault.path, "skipped": True}),
            is_error=True,
        )
        self.add(subtasks_skipped_errors=1)

    def _record_fault(self, fault: ItemFault) -> None:
        with self.state.lock:
            self._raise_if_stopped()
            logger.info(
                "task %s fault %s on %s; retrying in %ss",
                self.task.task_id,
                fault.code,
                fault.path,
                self.state.retry_interval,
            )
            self.task.faults += 1
            self.task.nice_status = fault.code
            self.task.nice_status_details = f"{fault.description}: {fault.path}"
            self.task.subtasks_retrying = 1
            self.task.next_retry_at = self.state.now() + self.state.retry_interval
            self.add_event(
                fault.code,
                fault.description,
                details=json.dumps({"path": fault.path}),
                is_error=True,
            )
            self.state.notify()

    def _wait_for_retry(self) -> None:
        with self.state.lock:
            while True:
                self._raise_if_stopped()
                retry_at = self.task.next_retry_at
                if retry_at is None or self.state.now() >= retry_at:
                    return
                timeout = min(retry_at - self.state.now(), self._seconds_to_deadline())
                self.state.changed.wait(timeout=max(timeout, 0.0))

    def _clear_fault(self) -> None:
        with self.state.lock:
            if self.task.next_retry_at is None or self.task.is_finished:
                return
            self.task.next_retry_at = None
            self.task.nice_status = "OK"
            self.task.nice_status_details = None
            self.task.subtasks_retrying = 0
            self.state.notify()

    # -- bandwidth ---------------------------------------------------------------------

    def throttle(self, sent: int) -> None:
        """Count ``sent`` bytes against the bandwidth limit and wait until they are due.

        The limit is bytes per second per task. Time spent held does not count,
        so a released task does not burst to catch up.
        """
        limit = self.state.bandwidth_limit
        if self.checkpoint():
            self._throttle_start = time.monotonic()
            self._throttle_bytes = 0
        if limit is None:
            return

        self._throttle_bytes += sent
        due = self._throttle_start + self._throttle_bytes / limit
        with self.state.lock:
            while True:
                self._raise_if_stopped()
                remaining = due - time.monotonic()
                if remaining <= 0:
                    return
                self.state.changed.wait(timeout=remaining)
