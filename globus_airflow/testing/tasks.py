"""Task records of the local Globus service and the exceptions that end a task's work.

A :class:`TaskRecord` contains everything Transfer reports about a task. Records are
mutated only while the service state's lock is held, and
:mod:`globus_airflow.testing.documents` turns them into JSON documents.
"""

from __future__ import annotations

import dataclasses
from typing import Any

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED"})


@dataclasses.dataclass(frozen=True)
class TransferItemSpec:
    """One ``transfer_item`` of a submission; ``recursive`` None means auto-detect."""

    source_path: str
    destination_path: str
    recursive: bool | None
    external_checksum: str | None
    checksum_algorithm: str | None


@dataclasses.dataclass(frozen=True)
class DeleteItemSpec:
    """One ``delete_item`` of a submission."""

    path: str


@dataclasses.dataclass(frozen=True)
class FilterRule:
    """A ``filter_rule``: ``name`` is a glob on entry names, ``type`` None matches both kinds."""

    method: str
    name: str
    type: str | None


@dataclasses.dataclass
class EventRecord:
    """An entry of a task's event list; ``time`` is seconds since the epoch."""

    code: str
    description: str
    details: str
    is_error: bool
    time: float


@dataclasses.dataclass(frozen=True)
class Interruption:
    """Why a task makes no progress: a stall, an INACTIVE status or an administrator's pause.

    The task document reports ``nice_status`` and ``description`` as its
    ``nice_status`` and ``nice_status_short_description``. ``path`` is the path
    that a stall's error events name, or None.
    """

    nice_status: str
    description: str
    path: str | None = None


@dataclasses.dataclass
class TaskRecord:
    """The state of one TRANSFER or DELETE task.

    Times are seconds since the epoch on the service clock. ``options`` contains the
    submission's options as Transfer echoes them in the task document.
    """

    task_id: str
    type: str
    owner_id: str
    submission_id: str
    sequence: int
    request_time: float
    deadline: float
    label: str | None
    source_endpoint_id: str
    source_display_name: str
    destination_endpoint_id: str | None
    destination_display_name: str | None
    transfer_items: list[TransferItemSpec] = dataclasses.field(default_factory=list)
    delete_items: list[DeleteItemSpec] = dataclasses.field(default_factory=list)
    filter_rules: list[FilterRule] | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    status: str = "ACTIVE"
    nice_status: str | None = "Queued"
    nice_status_details: str | None = None
    fatal_error: dict[str, str] | None = None
    completion_time: float | None = None
    canceled_by_admin: str | None = None
    canceled_by_admin_message: str | None = None

    files: int = 0
    directories: int = 0
    symlinks: int = 0
    files_transferred: int = 0
    files_skipped: int = 0
    bytes_transferred: int = 0
    bytes_checksummed: int = 0
    faults: int = 0
    subtasks_total: int = 0
    subtasks_succeeded: int = 0
    subtasks_failed: int = 0
    subtasks_canceled: int = 0
    subtasks_expired: int = 0
    subtasks_retrying: int = 0
    subtasks_skipped_errors: int = 0

    events: list[EventRecord] = dataclasses.field(default_factory=list)
    successful_transfers: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    # Set by the controls in testing.task_states; the runner makes no progress while any is set.
    stall: Interruption | None = None
    inactive: Interruption | None = None
    admin_pause: Interruption | None = None

    # Bookkeeping of the runner, not part of any document.
    holds_slot: bool = False
    started_at: float | None = None
    next_retry_at: float | None = None
    next_stall_fault_at: float | None = None

    @property
    def is_finished(self) -> bool:
        """Whether the task reached SUCCEEDED or FAILED."""
        return self.status in TERMINAL_STATUSES

    @property
    def interruption(self) -> Interruption | None:
        """What the task document reports instead of the runner's own nice_status.

        An administrator's pause wins over INACTIVE, which wins over a stall.
        """
        if self.is_finished:
            return None
        return self.admin_pause or self.inactive or self.stall

    @property
    def subtasks_pending(self) -> int:
        """Subtasks neither finished nor waiting for a retry."""
        done = (
            self.subtasks_succeeded
            + self.subtasks_failed
            + self.subtasks_canceled
            + self.subtasks_expired
            + self.subtasks_skipped_errors
            + self.subtasks_retrying
        )
        return max(self.subtasks_total - done, 0)


class TaskInterrupted(Exception):
    """Base of the exceptions that stop a task runner between two steps."""


class TaskCanceled(TaskInterrupted):
    """The task finished while the runner worked on it, usually by a cancel request."""


class TaskExpired(TaskInterrupted):
    """The task's deadline passed."""


class ServiceStopping(TaskInterrupted):
    """The service is shutting down; the task stays as it is."""


class TaskFatal(TaskInterrupted):
    """An error that ends the task as FAILED with ``fatal_error`` set to this code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ItemFault(Exception):
    """A retryable fault on one path, such as FILE_NOT_FOUND or PERMISSION_DENIED.

    ``on_source`` marks faults that ``skip_source_errors`` may skip.
    """

    def __init__(self, code: str, description: str, *, path: str, on_source: bool) -> None:
        super().__init__(f"{code} on {path}: {description}")
        self.code = code
        self.description = description
        self.path = path
        self.on_source = on_source
