"""Transfers that use a connection stored in Airflow's database, blocking and deferred."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_db_connection",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    for mode, deferrable in (("blocking", False), ("deferred", True)):
        GlobusTransferOperator(
            task_id=f"transfer_{mode}",
            globus_conn_id="globus_lab_db",
            source_endpoint=SOURCE,
            destination_endpoint=DESTINATION,
            source_path="/run_2026-11-30_A01/RunInfo.xml",
            destination_path=f"/{mode}/RunInfo.xml",
            deferrable=deferrable,
            poll_interval=0.2,
            timeout=120,
        )
