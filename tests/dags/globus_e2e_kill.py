"""A blocking transfer that tests/e2e/test_cancel.py kills with SIGTERM while it waits."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_e2e_kill",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=SOURCE_COLLECTION,
        destination_endpoint=DESTINATION_COLLECTION,
        source_path="/data",
        destination_path="/data",
        recursive=True,
        deferrable=False,
        poll_interval=0.2,
    )
