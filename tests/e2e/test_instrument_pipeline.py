"""The instrument pipeline example DAG, run through dag.test() against the local Globus service."""

from __future__ import annotations

import pytest

from globus_airflow.testing.sample_data import SAMPLE_NAMES, tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")

RUN = "run_2026-11-30_A01"


def test_pipeline_archives_samples_and_clears_staging(local_globus, collections, tmp_path):
    write_sample_dataset(collections["source"], large_files=0)
    # Kept aside to compare with the archive after staging is cleared.
    expected = tmp_path / "expected"
    write_sample_dataset(expected, large_files=0)

    dag_run = run_dag("example_globus_instrument_pipeline")

    states = task_states(dag_run)
    assert states == {
        "wait_for_run": "success",
        "find_samples": "success",
        "plan_copies": "success",
        "copy_sample": "success",
        "remove_staging_copy": "success",
    }

    samples = xcom_value(dag_run, "find_samples")
    assert [sample["name"] for sample in samples] == sorted(SAMPLE_NAMES)
    assert all(sample["type"] == "dir" for sample in samples)

    archive = collections["destination"] / "archive" / RUN / "fastq"
    assert tree_differences(expected / RUN / "fastq", archive) == []

    staging_fastq = collections["source"] / RUN / "fastq"
    assert list(staging_fastq.iterdir()) == []
    assert (collections["source"] / RUN / "RTAComplete.txt").exists()
    assert (collections["source"] / RUN / "InterOp").is_dir()

    tasks = local_globus.tasks()
    transfers = [task for task in tasks if task["type"] == "TRANSFER"]
    deletes = [task for task in tasks if task["type"] == "DELETE"]
    assert len(transfers) == len(SAMPLE_NAMES)
    assert len(deletes) == 1
    assert all(task["status"] == "SUCCEEDED" for task in tasks)
    assert tasks[-1]["type"] == "DELETE", "the delete is submitted after every transfer"
    assert deletes[0]["request_time"] >= max(task["completion_time"] for task in transfers)

    marker = xcom_value(dag_run, "wait_for_run")
    assert [entry["name"] for entry in marker] == ["RTAComplete.txt"]
