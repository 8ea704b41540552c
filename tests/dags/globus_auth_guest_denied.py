"""A transfer out of a guest collection on which the app has no access rule."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator
from globus_airflow.testing import collection_id_for

with DAG(
    dag_id="globus_auth_guest_denied",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=collection_id_for("shared"),
        destination_endpoint=collection_id_for("destination"),
        source_path="/",
        destination_path="/",
        recursive=True,
        poll_interval=0.2,
        stall_timeout=0.5,
        retries=0,
    )
