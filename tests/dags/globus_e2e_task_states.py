"""One transfer per Globus task state and waiting mode; see tests/e2e/test_stalls.py.

The test imposes a state on each task's Globus task, chosen by the task id
that the transfer label carries: a stall that needs a human, a transient
fault, INACTIVE, an administrator's pause, or an administrator's cancel.
"""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"
STATES = ("stalled", "transient", "inactive", "paused", "admin_canceled")

with DAG(
    dag_id="globus_e2e_task_states",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={
        "source_endpoint": SOURCE_COLLECTION,
        "destination_endpoint": DESTINATION_COLLECTION,
        "source_path": "/data/sample.txt",
        "transfer_label": "{{ task.task_id }}",
        "poll_interval": 0.2,
        "stall_timeout": 0.5,
        # Only failures that Airflow may retry use the retry, after a second.
        "retries": 1,
        "retry_delay": datetime.timedelta(seconds=1),
    },
) as dag:
    for state in STATES:
        for mode in ("blocking", "deferred"):
            GlobusTransferOperator(
                task_id=f"{state}_{mode}",
                destination_path=f"/{state}_{mode}.txt",
                deferrable=mode == "deferred",
            )
