"""Transfer and delete with dry_run=True; see tests/operators/test_dry_run.py."""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.delete import GlobusDeleteOperator
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_ops_dry_run",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=SOURCE_COLLECTION,
        destination_endpoint=DESTINATION_COLLECTION,
        items=[
            {"source_path": "/data/a.txt", "destination_path": "/copy/a.txt"},
            {"source_path": "/data/b.txt", "destination_path": "/copy/b.txt"},
            {"source_path": "/data/sub", "destination_path": "/copy/sub", "recursive": True},
        ],
        transfer_label="Nightly copy",
        sync_level="checksum",
        deadline=datetime.timedelta(hours=2),
        max_items_per_task=2,
        dry_run=True,
    )
    GlobusDeleteOperator(
        task_id="delete",
        endpoint=SOURCE_COLLECTION,
        path="/data",
        recursive=True,
        dry_run=True,
    )
