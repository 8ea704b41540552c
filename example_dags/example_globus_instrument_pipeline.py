"""Move a sequencing run's samples off the instrument's staging collection.

1. ``wait_for_run`` waits for the run's completion marker, RTAComplete.txt.
2. ``find_samples`` lists the run's ``fastq/`` folder for sample folders.
3. ``plan_copies`` turns each sample folder into the arguments of one transfer.
4. ``copy_sample`` copies each sample in its own Globus task (a mapped task).
5. ``remove_staging_copy`` deletes the copied sample folders from staging,
   and runs only after every copy succeeded.

The params' defaults are the collection ids that the local Globus service
gives to collections named ``source`` (staging) and ``destination``
(archive), and the run that ``globus_airflow.testing.sample_data`` writes,
so ``make demo`` runs this DAG unchanged. To move real data, trigger it
with your own collection ids and paths.
"""

from __future__ import annotations

import datetime
import posixpath

import pendulum

from airflow.providers.common.compat.sdk import DAG, Param, task
from globus_airflow.operators.delete import GlobusDeleteOperator
from globus_airflow.operators.directory import GlobusListOperator
from globus_airflow.operators.transfer import GlobusTransferOperator
from globus_airflow.sensors.path import GlobusPathSensor

LOCAL_SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
LOCAL_DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"

with DAG(
    dag_id="example_globus_instrument_pipeline",
    description="Archive each sample of a finished sequencing run, then clear staging",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["globus", "example"],
    params={
        "staging_collection": Param(
            LOCAL_SOURCE_COLLECTION,
            type="string",
            description="UUID of the collection the instrument writes to",
        ),
        "archive_collection": Param(
            LOCAL_DESTINATION_COLLECTION,
            type="string",
            description="UUID of the collection that keeps the samples",
        ),
        "run_path": Param(
            "/run_2026-11-30_A01", type="string", description="The run's folder on staging"
        ),
        "archive_path": Param(
            "/archive", type="string", description="Folder on the archive that receives runs"
        ),
    },
) as dag:
    wait_for_run = GlobusPathSensor(
        task_id="wait_for_run",
        endpoint="{{ params.staging_collection }}",
        path="{{ params.run_path }}/RTAComplete.txt",
        mode="reschedule",
        poke_interval=60,
        timeout=datetime.timedelta(hours=12).total_seconds(),
    )

    find_samples = GlobusListOperator(
        task_id="find_samples",
        endpoint="{{ params.staging_collection }}",
        path="{{ params.run_path }}/fastq/",
        entry_type="dir",
        min_entries=1,
    )

    @task
    def plan_copies(samples: list[dict], params: dict | None = None) -> list[dict]:
        """Turn each listed sample folder into the paths and label of its transfer."""
        run_name = posixpath.basename(params["run_path"].rstrip("/"))
        return [
            {
                "source_path": sample["path"] + "/",
                "destination_path": posixpath.join(
                    params["archive_path"], run_name, "fastq", sample["name"]
                )
                + "/",
                "transfer_label": f"{run_name} {sample['name']}",
            }
            for sample in samples
        ]

    copy_sample = GlobusTransferOperator.partial(
        task_id="copy_sample",
        source_endpoint="{{ params.staging_collection }}",
        destination_endpoint="{{ params.archive_collection }}",
        recursive=True,
        sync_level="checksum",
        verify_checksum=True,
        preserve_timestamp=True,
        notify_on_succeeded=False,
        deadline=datetime.timedelta(hours=12),
        poll_interval=2,
        retries=1,
        retry_delay=datetime.timedelta(seconds=30),
    ).expand_kwargs(plan_copies(find_samples.output))

    remove_staging_copy = GlobusDeleteOperator(
        task_id="remove_staging_copy",
        endpoint="{{ params.staging_collection }}",
        items=find_samples.output.map(lambda sample: sample["path"]),
        recursive=True,
        delete_label="Remove archived samples of {{ params.run_path }}",
        poll_interval=2,
    )

    wait_for_run >> find_samples
    copy_sample >> remove_staging_copy
