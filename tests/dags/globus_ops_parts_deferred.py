"""The split transfer of globus_ops_parts, waited on in the triggerer."""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG, task
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"
FILE_COUNT = 7

with DAG(
    dag_id="globus_ops_parts_deferred",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:

    @task
    def plan() -> list[dict]:
        return [
            {
                "source_path": f"/data/file_{number}.txt",
                "destination_path": f"/copy/file_{number}.txt",
            }
            for number in range(FILE_COUNT)
        ]

    plan_items = plan()
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=SOURCE_COLLECTION,
        destination_endpoint=DESTINATION_COLLECTION,
        items=plan_items,
        transfer_label="Copy files",
        max_items_per_task=3,
        deferrable=True,
        poll_interval=0.2,
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
    )
