"""Wait for a completion marker with GlobusPathSensor; see tests/operators/test_path_sensor.py."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.sensors.path import GlobusPathSensor

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"

with DAG(
    dag_id="globus_ops_sensor_deferred",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusPathSensor(
        task_id="wait",
        endpoint=SOURCE_COLLECTION,
        path="/incoming/RTAComplete.txt",
        deferrable=True,
        poke_interval=0.2,
        timeout=60,
    )
