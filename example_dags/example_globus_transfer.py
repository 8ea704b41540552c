"""Copy a whole Globus collection into another, then report what moved.

The params' defaults are the collection ids that the local Globus service
gives to collections named ``source`` and ``destination``, so ``make demo``
runs this DAG unchanged. To move real data, trigger the DAG with your own
collection ids and paths, and point the ``globus_default`` connection at
your confidential app (see docs/setup.md).
"""

from __future__ import annotations

import datetime
import logging

import pendulum

from airflow.providers.common.compat.sdk import DAG, Param, task
from globus_airflow.operators.transfer import GlobusTransferOperator

log = logging.getLogger(__name__)

LOCAL_SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
LOCAL_DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="example_globus_transfer",
    description="Copy a Globus collection's tree into another collection",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["globus", "example"],
    params={
        "source_collection": Param(
            LOCAL_SOURCE_COLLECTION, type="string", description="UUID of the source collection"
        ),
        "destination_collection": Param(
            LOCAL_DESTINATION_COLLECTION,
            type="string",
            description="UUID of the destination collection",
        ),
        "source_path": Param("/", type="string", description="Directory to copy"),
        "destination_path": Param("/", type="string", description="Directory to copy into"),
    },
) as dag:
    transfer = GlobusTransferOperator(
        task_id="transfer",
        source_endpoint="{{ params.source_collection }}",
        destination_endpoint="{{ params.destination_collection }}",
        source_path="{{ params.source_path }}",
        destination_path="{{ params.destination_path }}",
        recursive=True,
        # Runs triggered from the UI or the REST API on Airflow 3 have no logical
        # date, and so no ``ds``; their run_after date is used instead.
        transfer_label=(
            "Airflow {{ dag.dag_id }} {{ ds if ds is defined else dag_run.run_after | ds }}"
        ),
        sync_level="checksum",
        verify_checksum=True,
        preserve_timestamp=True,
        notify_on_succeeded=False,
        deadline=datetime.timedelta(hours=12),
        poll_interval=2,
        retries=1,
        retry_delay=datetime.timedelta(seconds=30),
    )

    @task
    def report(summary: dict) -> None:
        """Log what the transfer moved; a real pipeline would process the data here."""
        log.info(
            "Globus task %s moved %s files (%s bytes) in %.1f s; %s files were already there",
            summary["globus_task_id"],
            summary["files_transferred"],
            summary["bytes_transferred"],
            summary["duration_seconds"] or 0.0,
            summary["files_skipped"],
        )

    report(transfer.output["globus_task_summary"])
