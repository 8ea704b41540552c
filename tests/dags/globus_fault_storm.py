"""Several mapped transfers run while the service fails about 30 % of Transfer requests."""

from __future__ import annotations

import pendulum

from airflow.providers.common.compat.sdk import DAG
from globus_airflow.operators.transfer import GlobusTransferOperator

SOURCE = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"
SAMPLES = ["Sample_001", "Sample_002 repeat", "Probe_Müller", "échantillon_03", "Sample_004"]

with DAG(
    dag_id="globus_fault_storm",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    GlobusTransferOperator.partial(
        task_id="transfer",
        source_endpoint=SOURCE,
        destination_endpoint=DESTINATION,
        recursive=True,
        poll_interval=0.2,
        timeout=300,
        transient_error_budget=120,
    ).expand_kwargs(
        [
            {
                "source_path": f"/run_2026-11-30_A01/fastq/{sample}",
                "destination_path": f"/fastq/{sample}",
            }
            for sample in SAMPLES
        ]
    )
