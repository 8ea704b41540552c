"""A delete whose first try fails after submitting; see tests/operators/test_delete.py."""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.delete import GlobusDeleteOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"

with DAG(
    dag_id="globus_ops_delete_retry",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusDeleteOperator(
        task_id="delete",
        endpoint=SOURCE_COLLECTION,
        path="/staging/tree",
        recursive=True,
        poll_interval=0.2,
        transient_error_budget=1,
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
    )
