"""Delete tasks with different outcomes; see tests/operators/test_delete.py."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.delete import GlobusDeleteOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"

with DAG(
    dag_id="globus_ops_delete",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"endpoint": SOURCE_COLLECTION, "poll_interval": 0.2, "retries": 0},
) as dag:
    GlobusDeleteOperator(task_id="delete_tree", path="/staging/tree", recursive=True)
    GlobusDeleteOperator(task_id="delete_missing", path="/staging/missing.txt")
    GlobusDeleteOperator(
        task_id="delete_missing_ignored",
        items=["/staging/missing.txt", "/staging/present.txt"],
        ignore_missing=True,
    )
    GlobusDeleteOperator(
        task_id="delete_logs",
        path="/staging/logs/*.log",
        interpret_globs=True,
        delete_label="Remove the logs",
    )
