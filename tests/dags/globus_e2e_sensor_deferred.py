"""Submit without waiting, then wait in a sensor in the triggerer; see tests/e2e/test_sensor.py."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator
from globus_airflow.sensors.task import GlobusTaskSensor

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="globus_e2e_sensor_deferred",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    submit = GlobusTransferOperator(
        task_id="submit",
        source_endpoint=SOURCE_COLLECTION,
        destination_endpoint=DESTINATION_COLLECTION,
        source_path="/data",
        destination_path="/data",
        recursive=True,
        wait_for_completion=False,
    )
    wait = GlobusTaskSensor(
        task_id="wait",
        globus_task_id="{{ ti.xcom_pull(task_ids='submit') }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=120,
    )
    submit >> wait
