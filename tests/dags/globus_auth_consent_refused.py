"""A transfer into a mapped collection whose data_access consent Globus keeps refusing."""

from __future__ import annotations

import datetime

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator
from globus_airflow.testing import collection_id_for

with DAG(
    dag_id="globus_auth_consent_refused",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator(
        task_id="transfer",
        source_endpoint=collection_id_for("source"),
        destination_endpoint=collection_id_for("destination"),
        source_path="/",
        destination_path="/",
        recursive=True,
        poll_interval=0.2,
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
    )
