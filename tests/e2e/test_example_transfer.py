"""The example DAG, run through dag.test() against the local Globus service."""

from __future__ import annotations

import pytest

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_example_dag_copies_tree(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=1, large_file_bytes=256 * 1024)

    dag_run = run_dag("example_globus_transfer")

    assert task_states(dag_run) == {"transfer": "success", "report": "success"}
    assert tree_differences(collections["source"], collections["destination"]) == []

    globus_task_id = xcom_value(dag_run, "transfer")
    task = local_globus.get_task(globus_task_id)
    assert task["status"] == "SUCCEEDED"
    assert len(local_globus.tasks()) == 1

    summary = xcom_value(dag_run, "transfer", key="globus_task_summary")
    assert summary["globus_task_id"] == globus_task_id
    assert summary["files_transferred"] == task["files_transferred"]
    assert summary["files_transferred"] > 300

    url = xcom_value(dag_run, "transfer", key="globus_task_url")
    assert url == f"{local_globus.web_app_url.rstrip('/')}/activity/{globus_task_id}"


def test_example_dag_second_run_skips_unchanged(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=0)
    first = run_dag("example_globus_transfer")
    second = run_dag("example_globus_transfer")

    assert task_states(second)["transfer"] == "success"
    summary = xcom_value(second, "transfer", key="globus_task_summary")
    assert summary["files_transferred"] == 0
    assert summary["files_skipped"] > 300
    assert xcom_value(first, "transfer") != xcom_value(second, "transfer")
