"""Transfers of a missing file with stall detection off, which wait for the Globus deadline.

See tests/e2e/test_stalls.py.
"""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_e2e_deadline",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={
        "source_endpoint": SOURCE_COLLECTION,
        "destination_endpoint": DESTINATION_COLLECTION,
        "poll_interval": 0.2,
        "stall_timeout": None,
    },
) as dag:
    blocking = GlobusTransferOperator(
        task_id="blocking",
        source_path="/missing-blocking.txt",
        destination_path="/missing-blocking.txt",
        deadline=datetime.timedelta(hours=1),
        deferrable=False,
    )
    deferred = GlobusTransferOperator(
        task_id="deferred",
        source_path="/missing-deferred.txt",
        destination_path="/missing-deferred.txt",
        # The test moves the service clock 2 hours on to expire "blocking", so
        # this deadline must lie beyond that.
        deadline=datetime.timedelta(hours=4),
        deferrable=True,
        trigger_rule="all_done",
    )
    # In this order: the test expires "blocking" first.
    blocking >> deferred
