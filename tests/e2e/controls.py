"""Helpers that let an end-to-end test act while a DAG runs under ``dag.test()``.

``dag.test()`` blocks the test's thread until the run ends, and under it a
trigger runs inline. A test therefore acts from a second thread, and waits
there on the local Globus service's own notifications (never on sleeps):
for the number of status reads an Airflow task has made of its Globus task.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from globus_airflow.testing import LocalGlobusService

from airflow import __version__ as airflow_version

AIRFLOW_3 = int(airflow_version.split(".")[0]) >= 3
TASK_READ = re.compile(r"/transfer/v0\.10/task/([0-9a-f-]{36})")
WAIT_TIMEOUT = 30.0
"""Seconds a helper waits for the Airflow side before it fails the test."""


class TaskReads:
    """Count the status reads (``GET task/{id}``) that the service receives, per Globus task.

    Status reads are what the operator, the sensor and the trigger send on
    every poll, so the count measures how many polls a wait has made.
    """

    def __init__(self, service: LocalGlobusService) -> None:
        self.service = service
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopped = False
        self._remove = service.add_request_hook(self._count)

    def _count(self, method: str, path: str) -> None:
        match = TASK_READ.fullmatch(path)
        if method == "GET" and match is not None:
            with self._lock:
                self.counts[match[1]] += 1

    def wait_for_reads(
        self, count: int, *, exclude: set[str] | frozenset[str] = frozenset()
    ) -> str:
        """Wait until a Globus task outside ``exclude`` was read ``count`` times; return its id."""
        found: list[str] = []

        def reached() -> bool:
            with self._lock:
                counts = dict(self.counts)
            for task_id, reads in counts.items():
                if task_id not in exclude and reads >= count:
                    found.append(task_id)
                    return True
            return self._stopped

        self.service.wait_until(
            reached, timeout=WAIT_TIMEOUT, description=f"a Globus task read {count} times"
        )
        if not found:
            raise AssertionError(f"the DAG run ended before a Globus task was read {count} times")
        return found[0]

    def wait_for_reads_of(self, globus_task_id: str, count: int) -> None:
        """Wait until one Globus task was read ``count`` times in all."""

        def reached() -> bool:
            with self._lock:
                reads = self.counts[globus_task_id]
            return reads >= count or self._stopped

        self.service.wait_until(
            reached,
            timeout=WAIT_TIMEOUT,
            description=f"Globus task {globus_task_id} read {count} times",
        )
        if self.counts[globus_task_id] < count:
            raise AssertionError(
                f"the DAG run ended before Globus task {globus_task_id} was read {count} times"
            )

    def stop_waiting(self) -> None:
        """End every wait in :meth:`wait_for_reads`, for example when the DAG run is over."""
        self._stopped = True
        # Moving the service clock by zero wakes the waiters without changing any task.
        self.service.advance_clock(0)

    def close(self) -> None:
        """Remove the request hook."""
        self._remove()


@contextlib.contextmanager
def task_reads(service: LocalGlobusService) -> Iterator[TaskReads]:
    """Count status reads for the duration of the block."""
    reads = TaskReads(service)
    try:
        yield reads
    finally:
        reads.close()


@contextlib.contextmanager
def in_background(
    action: Callable[[], Any], *, cleanup: Callable[[], Any], reads: TaskReads
) -> Iterator[None]:
    """Run ``action`` in a thread beside the block; re-raise its error when the block ends.

    ``cleanup`` runs in the thread after ``action``, even when it fails, and
    must unblock the DAG run (for example release held tasks), so that a
    failed step fails the test instead of hanging it. When the block ends,
    the waits on ``reads`` end too, so an action still waiting fails at once.
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)
        finally:
            cleanup()

    thread = threading.Thread(target=run, name="e2e-controller", daemon=True)
    thread.start()
    try:
        yield
    finally:
        reads.stop_waiting()
        thread.join(timeout=WAIT_TIMEOUT)
    if errors:
        raise errors[0]
    assert not thread.is_alive(), "the controller thread did not finish"


def newest_run_xcoms(dag_id: str, task_id: str) -> dict[str, Any]:
    """Return the XComs (key to value) of a task in the newest run of a DAG."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    try:
        from airflow.models.xcom import XComModel
    except ImportError:  # Airflow 2
        from airflow.models.xcom import XCom as XComModel

    with create_session() as session:
        run_id = session.scalar(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        )
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run_id,
                XComModel.task_id == task_id,
            )
        ).all()
        if not AIRFLOW_3:
            # Airflow 2 deserializes a row's value as it loads the row.
            return {row.key: row.value for row in rows}
        return {row.key: XComModel.deserialize_value(row) for row in rows}


def logged_text(capfd: Any, caplog: Any) -> str:
    """Return what the run logged, wherever this Airflow version sent it.

    Airflow 3 prints task logs to stdout; Airflow 2 sends them through
    ``logging``, where pytest's ``caplog`` collects them.
    """
    captured = capfd.readouterr()
    # Print it again so that the secrets check after the test still reads it.
    sys.stdout.write(captured.out)
    sys.stderr.write(captured.err)
    return f"{captured.out}\n{captured.err}\n{caplog.text}"


def task_instance_state(dag_id: str, task_id: str) -> str | None:
    """Return the state of a task in the newest run of a DAG."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run_id = session.scalar(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        )
        state = session.scalar(
            select(TaskInstance.state).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == task_id,
            )
        )
        return None if state is None else str(state)
