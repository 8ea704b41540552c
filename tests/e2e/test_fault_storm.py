"""Transient failures on about 30 % of Transfer requests fail no transfer and duplicate none."""

from __future__ import annotations

import pytest

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag
from tests.dags.globus_fault_storm import SAMPLES

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_fault_storm_batch_succeeds_once_each(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=0)
    offline = local_globus.inject_error("transfer", status=502, probability=0.15)
    unavailable = local_globus.inject_error("transfer", status=503, probability=0.15)
    dropped = local_globus.drop_connections("get_task", probability=0.1)

    dag_run = run_dag("globus_fault_storm")

    states = [str(ti.state) for ti in dag_run.get_task_instances()]
    assert states == ["success"] * len(SAMPLES)
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [1] * len(SAMPLES)
    assert offline.served + unavailable.served + dropped.served > 0

    tasks = local_globus.tasks()
    assert len(tasks) == len(SAMPLES)
    assert local_globus.stats.submissions_accepted == len(SAMPLES)
    assert all(task["status"] == "SUCCEEDED" for task in tasks)
    labels = [task["label"] for task in tasks]
    assert len(set(labels)) == len(SAMPLES)

    for sample in SAMPLES:
        expected = collections["source"] / "run_2026-11-30_A01" / "fastq" / sample
        actual = collections["destination"] / "fastq" / sample
        assert tree_differences(expected, actual) == []
