"""Kill the task process with SIGKILL at each risky point; the rerun must submit exactly once.

The task runs ``dag.test()`` in a child process. The test stops the local
service at a chosen point, kills the child, then runs the same DAG run again
in this process (same logical date, so the same run id, as a retry or a
clear of the task instance has). The rerun finds the first process's Globus
task through the task label, because a killed process cannot record anything.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")

REPO = Path(__file__).resolve().parents[2]
TASK_READS = "GET /transfer/v0.10/task/{task_id}"


def start_task_process(
    dag_id: str, logical_date: datetime.datetime, log_path: Path
) -> subprocess.Popen:
    release_database()
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.run_dag_process", dag_id, logical_date.isoformat()],
            cwd=REPO,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def release_database() -> None:
    """Close this process's SQLite connections, whose open reads would block the child's writes."""
    from airflow import settings

    if settings.Session is not None:
        settings.Session.remove()
    if settings.engine is not None:
        settings.engine.dispose()


def kill(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(timeout=30)


def crash_before_submit(service, start):
    hold = service.hold_requests("submit_transfer")
    process = start()
    hold.wait_for_held(count=1, timeout=120)
    kill(process)
    hold.release()


def crash_after_submit(service, start):
    hold = service.hold_requests("submit_transfer", after_processing=True)
    process = start()
    hold.wait_for_held(count=1, timeout=120)
    kill(process)
    hold.release()


def crash_while_waiting(service, start):
    service.hold_tasks()
    process = start()
    service.wait_until(
        lambda: service.stats.requests.get(TASK_READS, 0) >= 2,
        timeout=120,
        description="two task reads by the child process",
    )
    kill(process)
    service.release_tasks()


CRASHES = {
    "before_submit": crash_before_submit,
    "after_submit": crash_after_submit,
    "while_waiting": crash_while_waiting,
}


@pytest.mark.parametrize("dag_id", ["globus_crash", "globus_crash_deferred"])
@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_rerun_after_sigkill_submits_once(local_globus, collections, tmp_path, dag_id, crash):
    stats = write_sample_dataset(collections["source"], large_files=0)
    # A date of its own per case: on Airflow 2.11, a child process that has to
    # delete an earlier run of the same date fails to load the FAB user model.
    case = sorted(CRASHES).index(crash)
    logical_date = datetime.datetime(2026, 3, 1 + case, tzinfo=datetime.timezone.utc)
    log_path = tmp_path / "task-process.log"

    try:
        CRASHES[crash](local_globus, lambda: start_task_process(dag_id, logical_date, log_path))
    finally:
        # Shown by pytest when the test fails.
        print(log_path.read_text(errors="replace")[-5000:])
    dag_run = run_dag(dag_id, logical_date=logical_date)

    assert task_states(dag_run) == {"transfer": "success"}
    tasks = local_globus.tasks()
    assert len(tasks) == 1
    assert local_globus.stats.submissions_accepted == 1
    assert tasks[0]["status"] == "SUCCEEDED"
    assert tasks[0]["files_transferred"] == stats.files
    assert tree_differences(collections["source"], collections["destination"]) == []
