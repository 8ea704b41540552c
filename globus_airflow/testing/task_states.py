"""Task states that tests impose on a task: stalls, INACTIVE, an administrator's pause or cancel, expiry.

Each function changes one unfinished task under the state lock and wakes the
waiters. The task's runner checks the task at its next step. It makes no
progress while the task is stalled, INACTIVE or paused (see
:meth:`globus_airflow.testing.control.TaskControl.checkpoint`), and it stops
once the task is FAILED.
"""

from __future__ import annotations

import logging

from globus_airflow.testing.control import record_stall_fault
from globus_airflow.testing.runner import finish_task
from globus_airflow.testing.state import ServiceState
from globus_airflow.testing.tasks import EventRecord, Interruption, TaskRecord

logger = logging.getLogger(__name__)

HEALTHY_NICE_STATUSES = frozenset({"OK", "Queued"})

ADMIN_CANCEL_SIDES = ("SOURCE", "DESTINATION", "BOTH")
"""Values of ``canceled_by_admin``: the collection whose administrator canceled the task."""

# NOTE: the nice_status and description a paused task reports are guesses; Transfer
# documents ``is_paused`` but not what nice_status shows alongside it.
PAUSED_NICE_STATUS = "PAUSED"
PAUSED_DESCRIPTION = "paused by an administrator"


def _unfinished_task(state: ServiceState, task_id: str) -> TaskRecord:
    """Return an unfinished task; raise KeyError for an unknown id, ValueError for a finished task."""
    task = state.find_task(task_id)
    if task is None:
        raise KeyError(f"no task {task_id!r}")
    if task.is_finished:
        raise ValueError(f"task {task_id} already finished with status {task.status}; only ACTIVE or INACTIVE tasks change state")
    return task


def _add_event(state: ServiceState, task: TaskRecord, code: str, description: str, *, details: str = "", is_error: bool) -> None:
    task.events.append(EventRecord(code=code, description=description, details=details, is_error=is_error, time=state.now()))


def _default_description(nice_status: str) -> str:
    return nice_status.replace("_", " ").lower()


def stall_task(
    state: ServiceState,
    task_id: str,
    nice_status: str,
    *,
    description: str | None = None,
    path: str | None = None,
) -> None:
    """Keep a task ACTIVE without progress, retrying the fault ``nice_status`` until resumed.

    The first fault and error event are recorded at once, then one more every
    ``retry_interval`` service-clock seconds while the task stays stalled.
    """
    if not nice_status or nice_status in HEALTHY_NICE_STATUSES:
        raise ValueError(f"nice_status must be a fault code such as PERMISSION_DENIED, got {nice_status!r}")
    with state.lock:
        task = _unfinished_task(state, task_id)
        task.stall = Interruption(nice_status, description or _default_description(nice_status), path)
        record_stall_fault(state, task)
    logger.info("task %s stalled with %s", task_id, nice_status)


def make_inactive(state: ServiceState, task_id: str, *, nice_status: str, description: str) -> None:
    """Make a task INACTIVE, as Globus does when the credentials for a collection expire.

    NOTE: Transfer documents that credential expiry makes a task INACTIVE but
    not which event it writes; this adds an error event with code ``nice_status``.
    """
    if not nice_status:
        raise ValueError("nice_status must be a non-empty code such as AUTH")
    with state.lock:
        task = _unfinished_task(state, task_id)
        task.inactive = Interruption(nice_status, description)
        task.status = "INACTIVE"
        _add_event(state, task, nice_status, description, is_error=True)
        state.notify()
    logger.info("task %s is INACTIVE with %s", task_id, nice_status)


def resume_task(state: ServiceState, task_id: str) -> None:
    """End a stall and an INACTIVE status; the task goes on from where it stopped.

    Raise ValueError when the task is neither stalled nor INACTIVE.
    """
    with state.lock:
        task = _unfinished_task(state, task_id)
        if task.stall is None and task.inactive is None:
            raise ValueError(f"task {task_id} is neither stalled nor INACTIVE, so there is nothing to resume")
        task.stall = None
        task.next_stall_fault_at = None
        if task.inactive is not None:
            task.inactive = None
            task.status = "ACTIVE"
        state.notify()
    logger.info("task %s resumed", task_id)


def admin_pause(state: ServiceState, task_id: str, *, message: str) -> None:
    """Pause a task as a collection administrator does: ``is_paused`` and a PAUSED event."""
    with state.lock:
        task = _unfinished_task(state, task_id)
        if task.admin_pause is not None:
            raise ValueError(f"task {task_id} is already paused")
        task.admin_pause = Interruption(PAUSED_NICE_STATUS, PAUSED_DESCRIPTION)
        # NOTE: whether Transfer marks PAUSED and UNPAUSED events as errors is a guess.
        _add_event(state, task, "PAUSED", PAUSED_DESCRIPTION, details=message, is_error=False)
        state.notify()
    logger.info("task %s paused by an administrator", task_id)


def admin_resume(state: ServiceState, task_id: str) -> None:
    """Undo :func:`admin_pause`: clear ``is_paused`` and add an UNPAUSED event."""
    with state.lock:
        task = _unfinished_task(state, task_id)
        if task.admin_pause is None:
            raise ValueError(f"task {task_id} is not paused")
        task.admin_pause = None
        _add_event(state, task, "UNPAUSED", "resumed by an administrator", is_error=False)
        state.notify()
    logger.info("task %s resumed by an administrator", task_id)


def admin_cancel(state: ServiceState, task_id: str, *, message: str, side: str) -> None:
    """Cancel a task as a collection administrator does: FAILED with fatal_error CANCELED.

    ``side`` is SOURCE, DESTINATION or BOTH and becomes ``canceled_by_admin``;
    ``message`` becomes ``canceled_by_admin_message``.

    NOTE: the fatal_error description and event text are guesses; Transfer
    documents the two canceled_by_admin fields only.
    """
    if side not in ADMIN_CANCEL_SIDES:
        raise ValueError(f"side must be one of {', '.join(ADMIN_CANCEL_SIDES)}, got {side!r}")
    with state.lock:
        task = _unfinished_task(state, task_id)
        task.canceled_by_admin = side
        task.canceled_by_admin_message = message
        finish_task(
            state,
            task,
            status="FAILED",
            fatal_error={"code": "CANCELED", "description": "The task was canceled by an administrator"},
            event=("CANCELED", "canceled by an administrator", True),
        )
    logger.info("task %s canceled by the %s administrator", task_id, side)


def expire_task(state: ServiceState, task_id: str) -> None:
    """End a task as its deadline passing does: FAILED with fatal_error EXPIRED.

    The deadline moves to now, and subtasks not yet done count as expired.
    """
    with state.lock:
        task = _unfinished_task(state, task_id)
        task.deadline = min(task.deadline, state.now())
        finish_task(
            state,
            task,
            status="FAILED",
            fatal_error={"code": "EXPIRED", "description": "The task's deadline passed"},
            event=("EXPIRED", "deadline expired", True),
        )


class TaskStateControls:
    """The task-state methods of :class:`~globus_airflow.testing.LocalGlobusService`.

    Each raises KeyError for an unknown task id and ValueError for a task that
    already finished, and takes effect before it returns: the next ``get_task``
    shows the new state.
    """

    _state: ServiceState

    def stall_task(
        self,
        task_id: str,
        nice_status: str,
        *,
        description: str | None = None,
        path: str | None = None,
    ) -> None:
        """Keep a task ACTIVE with no progress, faulting with ``nice_status``, until :meth:`resume_task`.

        The task reports ``nice_status``, ``nice_status_short_description``
        (``description``, by default the code in lower case with spaces) and
        ``is_ok`` false. It gains one fault and one error event with code
        ``nice_status`` now and another every ``retry_interval`` service-clock
        seconds (see ``advance_clock``). With ``path``, the event details are
        JSON naming the path in a ``context`` list. The deadline still applies.
        """
        stall_task(self._state, task_id, nice_status, description=description, path=path)

    def make_inactive(
        self,
        task_id: str,
        *,
        nice_status: str = "AUTH",
        description: str = "the credentials for a collection expired",
    ) -> None:
        """Make a task INACTIVE, as expired collection credentials do, until :meth:`resume_task`."""
        make_inactive(self._state, task_id, nice_status=nice_status, description=description)

    def resume_task(self, task_id: str) -> None:
        """End a stall or an INACTIVE status; the task is ACTIVE and makes progress again."""
        resume_task(self._state, task_id)

    def admin_pause(self, task_id: str, message: str = "paused for maintenance") -> None:
        """Pause a task as a collection administrator does, until :meth:`admin_resume`.

        The task reports ``is_paused`` true and nice_status PAUSED, and gets a
        PAUSED event whose details are ``message``.
        """
        admin_pause(self._state, task_id, message=message)

    def admin_resume(self, task_id: str) -> None:
        """Resume a task paused by :meth:`admin_pause`; adds an UNPAUSED event."""
        admin_resume(self._state, task_id)

    def admin_cancel(self, task_id: str, message: str = "canceled by the administrator", side: str = "SOURCE") -> None:
        """Cancel a task as a collection administrator does.

        The task is FAILED with fatal_error CANCELED, ``canceled_by_admin`` set
        to ``side`` (SOURCE, DESTINATION or BOTH) and ``canceled_by_admin_message``
        set to ``message``.
        """
        admin_cancel(self._state, task_id, message=message, side=side)

    def expire_task(self, task_id: str) -> None:
        """Expire a task now: FAILED with fatal_error EXPIRED and an EXPIRED event.

        Moving the service clock past the deadline with ``advance_clock`` has
        the same effect once the task's runner notices.
        """
        expire_task(self._state, task_id)
