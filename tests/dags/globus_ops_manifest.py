"""Transfer and delete the items of a manifest file; see tests/operators/test_manifest_runs.py."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.delete import GlobusDeleteOperator
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_ops_manifest",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"transfer_manifest": "", "delete_manifest": ""},
    default_args={"poll_interval": 0.2, "retries": 0},
) as dag:
    transfer = GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=SOURCE_COLLECTION,
        destination_endpoint=DESTINATION_COLLECTION,
        manifest="{{ params.transfer_manifest }}",
        source_path="/data",
        destination_path="/copy",
    )
    delete = GlobusDeleteOperator(
        task_id="delete",
        endpoint=SOURCE_COLLECTION,
        manifest="{{ params.delete_manifest }}",
        path="/data",
        recursive=True,
    )
    transfer >> delete
