"""Run DAGs from the test DAGs folder with ``dag.test()`` and read what they left behind.

The helpers work on Airflow 2.11 and 3.x, whose database models differ.
"""

from __future__ import annotations

import datetime
import importlib.util
import inspect
import os
from pathlib import Path
from typing import Any


def load_dag(dag_id: str, *, filename: str | None = None):
    """Import a DAG from the DAGs folder; the file is ``<dag_id>.py`` unless given."""
    path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / (filename or f"{dag_id}.py")
    spec = importlib.util.spec_from_file_location(f"test_dag_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for value in vars(module).values():
        if getattr(value, "dag_id", None) == dag_id and hasattr(value, "test"):
            return value
    raise LookupError(f"{path} defines no DAG with dag_id {dag_id!r}")


def run_dag(
    dag_id: str,
    *,
    conf: dict[str, Any] | None = None,
    filename: str | None = None,
    logical_date: datetime.datetime | None = None,
):
    """Run a DAG once in this process with ``dag.test()`` and return its DagRun.

    Running again with the same ``logical_date`` reuses the run id, as a
    retry or a clear of the same task instance does.
    """
    dag = load_dag(dag_id, filename=filename)
    if logical_date is None:
        return dag.test(run_conf=conf or None)
    parameters = inspect.signature(dag.test).parameters
    if "run_after" in parameters:
        # Airflow 3 names a manual run after run_after, not after the logical date.
        return dag.test(run_conf=conf or None, logical_date=logical_date, run_after=logical_date)
    if "logical_date" in parameters:
        return dag.test(run_conf=conf or None, logical_date=logical_date)
    return dag.test(run_conf=conf or None, execution_date=logical_date)  # Airflow 2


def task_states(dag_run) -> dict[str, str]:
    """Map each task id of a finished run to its final state."""
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def xcom_value(dag_run, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """Read one XCom value that a task of the run pushed."""
    from airflow.utils.session import create_session

    try:
        from airflow.models.xcom import XComModel
    except ImportError:  # Airflow 2
        from airflow.models.xcom import XCom

        return XCom.get_one(
            run_id=dag_run.run_id,
            dag_id=dag_run.dag_id,
            task_id=task_id,
            key=key,
            map_index=map_index,
        )

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id,
            dag_ids=dag_run.dag_id,
            task_ids=task_id,
            key=key,
            map_indexes=map_index,
        )
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)
