"""A transfer whose first Globus task FAILED, so the retry must submit a new one."""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_resubmit_failed",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=SOURCE,
        destination_endpoint=DESTINATION,
        source_path="/",
        destination_path="/",
        recursive=True,
        poll_interval=0.2,
        timeout=120,
        sync_level="mtime",
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
    )
