"""Transfers queued behind three stalled tasks must not fail; see tests/e2e/test_stalls.py.

Globus runs at most three tasks per identity at a time. The ``blocker_*``
tasks submit transfers of missing files, which hold their slots while they
retry, so the transfers of ``blocking`` and ``deferred`` wait as "Queued"
until the test lets a blocker finish. ``blocker_4`` takes the slot that
``blocking`` frees, so that ``deferred`` queues too.
"""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_e2e_queued",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={
        "source_endpoint": SOURCE_COLLECTION,
        "destination_endpoint": DESTINATION_COLLECTION,
        "poll_interval": 0.2,
        "stall_timeout": 0.5,
    },
) as dag:
    blockers = [
        GlobusTransferOperator(
            task_id=f"blocker_{number}",
            source_path=f"/later-{number}.txt",
            destination_path=f"/later-{number}.txt",
            wait_for_completion=False,
        )
        for number in range(1, 5)
    ]
    blocking = GlobusTransferOperator(
        task_id="blocking",
        source_path="/data",
        destination_path="/blocking",
        recursive=True,
        deferrable=False,
    )
    deferred = GlobusTransferOperator(
        task_id="deferred",
        source_path="/data",
        destination_path="/deferred",
        recursive=True,
        deferrable=True,
    )
    blockers[:3] >> blocking >> blockers[3] >> deferred
