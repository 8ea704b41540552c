"""GlobusTaskSensor waiting on a task that an upstream operator submitted without waiting."""

from __future__ import annotations

import pytest

from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import AIRFLOW_3, in_background, task_reads

pytestmark = pytest.mark.usefixtures("airflow_db")


def write_tree(root):
    (root / "data").mkdir()
    for index in range(3):
        (root / "data" / f"part-{index}.txt").write_text(f"part {index}\n")


def reschedule_count(dag_run, task_id):
    """Count the reschedules of a task instance: one per poke that found the task unfinished."""
    from sqlalchemy import func, select

    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session

    ti = dag_run.get_task_instance(task_id)
    if AIRFLOW_3:
        condition = TaskReschedule.ti_id == ti.id
    else:
        condition = (
            (TaskReschedule.dag_id == ti.dag_id)
            & (TaskReschedule.run_id == ti.run_id)
            & (TaskReschedule.task_id == ti.task_id)
        )
    with create_session() as session:
        return session.scalar(select(func.count()).select_from(TaskReschedule).where(condition))


@pytest.mark.parametrize(
    ("dag_id", "reads_before_release"),
    [
        # Each poke in reschedule mode is one read; the third poke finds the task SUCCEEDED.
        ("globus_e2e_sensor_reschedule", 2),
        # One read in execute() before the sensor defers, then reads from the trigger.
        ("globus_e2e_sensor_deferred", 3),
    ],
)
def test_sensor_waits_for_submitted_task(local_globus, collections, dag_id, reads_before_release):
    write_tree(collections["source"])

    local_globus.hold_tasks()
    with task_reads(local_globus) as reads:
        with in_background(
            lambda: reads.wait_for_reads(reads_before_release),
            cleanup=local_globus.release_tasks,
            reads=reads,
        ):
            dag_run = run_dag(dag_id)

    assert task_states(dag_run) == {"submit": "success", "wait": "success"}
    globus_task_id = xcom_value(dag_run, "submit")
    assert xcom_value(dag_run, "wait") == globus_task_id
    assert reads.counts[globus_task_id] > reads_before_release
    assert len(local_globus.tasks()) == 1

    task = local_globus.get_task(globus_task_id)
    summary = xcom_value(dag_run, "wait", key="globus_task_summary")
    assert task["status"] == "SUCCEEDED"
    assert summary["globus_task_id"] == globus_task_id
    assert summary["files_transferred"] == 3
    assert xcom_value(dag_run, "submit", key="globus_task_summary") is None

    url = f"{local_globus.web_app_url.rstrip('/')}/activity/{globus_task_id}"
    assert xcom_value(dag_run, "wait", key="globus_task_url") == url
    if dag_id == "globus_e2e_sensor_reschedule":
        assert reschedule_count(dag_run, "wait") >= reads_before_release
