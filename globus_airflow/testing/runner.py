"""Background threads that run tasks, the per-identity limit on active tasks, and cancel.

Each accepted task gets a thread. The thread first waits, in submission order,
for one of the ``MAX_ACTIVE_TASKS_PER_IDENTITY`` slots of its owner. Until then
the task is ACTIVE with nice_status "Queued", as on Globus. It then runs the
copy or delete job and finishes the task as SUCCEEDED or FAILED.
"""

from __future__ import annotations

import json
import logging
import threading

from globus_airflow.testing.control import TaskControl
from globus_airflow.testing.copier import TransferJob
from globus_airflow.testing.deleter import DeleteJob
from globus_airflow.testing.state import MAX_ACTIVE_TASKS_PER_IDENTITY, ServiceState
from globus_airflow.testing.tasks import (
    EventRecord,
    ServiceStopping,
    TaskCanceled,
    TaskExpired,
    TaskFatal,
    TaskRecord,
)

logger = logging.getLogger(__name__)


def finish_task(
    state: ServiceState,
    task: TaskRecord,
    *,
    status: str,
    fatal_error: dict[str, str] | None = None,
    event: tuple[str, str, bool] | None = None,
) -> bool:
    """Move an unfinished task to SUCCEEDED or FAILED; return False if it was already done.

    ``event`` is (code, description, is_error) of the closing event. Subtasks
    still pending count as canceled or expired, by ``fatal_error["code"]``.
    """
    with state.lock:
        if task.is_finished:
            return False

        now = state.now()
        pending = task.subtasks_pending + task.subtasks_retrying
        if fatal_error is not None and fatal_error["code"] == "CANCELED":
            task.subtasks_canceled += pending
        elif fatal_error is not None and fatal_error["code"] == "EXPIRED":
            task.subtasks_expired += pending
        elif fatal_error is not None:
            task.subtasks_failed += pending
        task.subtasks_retrying = 0
        task.next_retry_at = None
        task.stall = task.inactive = task.admin_pause = None
        task.next_stall_fault_at = None

        task.status = status
        task.nice_status = None
        task.nice_status_details = None
        task.fatal_error = fatal_error
        task.completion_time = now
        if event is not None:
            code, description, is_error = event
            details = json.dumps(fatal_error) if fatal_error is not None else ""
            task.events.append(EventRecord(code, description, details, is_error, now))
        state.notify()

    error_code = fatal_error["code"] if fatal_error is not None else None
    logger.info("task %s finished %s, fatal_error %s", task.task_id, status, error_code)
    return True


def cancel_task(state: ServiceState, task: TaskRecord) -> bool:
    """Cancel an unfinished task at once; return False when it had already finished.

    The task is FAILED with fatal_error CANCELED when this returns. Its runner
    notices at its next step, before it publishes any further file.
    """
    return finish_task(
        state,
        task,
        status="FAILED",
        fatal_error={"code": "CANCELED", "description": "The task was canceled by the user"},
        event=("CANCELED", "canceled", True),
    )


class TaskScheduler:
    """Starts one thread per task and stops them all when the service stops."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self._threads: list[threading.Thread] = []

    def start(self, task: TaskRecord) -> None:
        """Run ``task`` in a new daemon thread."""
        thread = threading.Thread(
            target=self._run,
            args=(task,),
            name=f"globus-task-{task.task_id[:8]}",
            daemon=True,
        )
        with self._state.lock:
            self._threads = [existing for existing in self._threads if existing.is_alive()]
            self._threads.append(thread)
        thread.start()

    def stop(self, *, timeout: float) -> None:
        """Stop every task runner and wait up to ``timeout`` seconds for each thread."""
        with self._state.lock:
            self._state.stopping = True
            self._state.notify()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=timeout)
            if thread.is_alive():
                logger.warning("task thread %s did not stop within %ss", thread.name, timeout)

    def _may_start(self, task: TaskRecord) -> bool:
        """Return whether ``task`` may take a slot now; call with the lock held."""
        owner_tasks = [
            other
            for other in self._state.tasks_of(task.owner_id)
            if not other.is_finished
        ]
        running = sum(1 for other in owner_tasks if other.holds_slot)
        if running >= MAX_ACTIVE_TASKS_PER_IDENTITY:
            return False
        waiting = [other for other in owner_tasks if not other.holds_slot]
        return bool(waiting) and waiting[0] is task

    def _acquire_slot(self, control: TaskControl) -> None:
        state = self._state
        task = control.task
        with state.lock:
            while True:
                if state.stopping:
                    raise ServiceStopping()
                if task.is_finished:
                    raise TaskCanceled()
                if state.now() >= task.deadline:
                    raise TaskExpired()
                if self._may_start(task):
                    break
                state.changed.wait(timeout=max(task.deadline - state.now(), 0.0))

            task.holds_slot = True
            task.nice_status = "OK"
            task.started_at = state.now()
            state.notify()
        control.add_event("STARTED", "started", details=json.dumps({"type": task.type}))

    def _release_slot(self, task: TaskRecord) -> None:
        with self._state.lock:
            task.holds_slot = False
            self._state.notify()

    def _run(self, task: TaskRecord) -> None:
        state = self._state
        control = TaskControl(state, task)
        try:
            self._acquire_slot(control)
            control.checkpoint()
            if task.type == "TRANSFER":
                TransferJob(control).run()
            else:
                DeleteJob(control).run()
            with state.lock:
                control.checkpoint()
                control.add_event("PROGRESS", "progress", details=control.progress_details())
                finish_task(state, task, status="SUCCEEDED", event=("SUCCEEDED", "succeeded", False))
        except TaskCanceled:
            logger.debug("task %s runner stopped: the task finished elsewhere", task.task_id)
        except ServiceStopping:
            logger.debug("task %s runner stopped: the service is stopping", task.task_id)
        except TaskExpired:
            finish_task(
                state,
                task,
                status="FAILED",
                fatal_error={"code": "EXPIRED", "description": "The task's deadline passed"},
                event=("EXPIRED", "deadline expired", True),
            )
        except TaskFatal as error:
            finish_task(
                state,
                task,
                status="FAILED",
                fatal_error={"code": error.code, "description": error.description},
                event=(error.code, error.description, True),
            )
        except Exception as error:  # a bug in the service must not leave the task ACTIVE forever
            logger.exception("task %s failed with an internal error", task.task_id)
            finish_task(
                state,
                task,
                status="FAILED",
                fatal_error={"code": "INTERNAL_ERROR", "description": f"local service error: {error}"},
                event=("INTERNAL_ERROR", "local service error", True),
            )
        finally:
            self._release_slot(task)
