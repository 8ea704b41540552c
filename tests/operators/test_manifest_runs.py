"""Transfers and deletes from manifest files, run by dag.test() against the local Globus service."""

from __future__ import annotations

import pytest

from tests.airflow_runs import run_dag, task_states
from tests.e2e.controls import logged_text

pytestmark = pytest.mark.usefixtures("airflow_db")


def write_source(collections):
    data = collections["source"] / "data"
    (data / "run 1" / "lane").mkdir(parents=True)
    (data / "run 1" / "lane" / "reads.fastq").write_text("@read\nACGT\n")
    (data / "Probe_Müller.txt").write_text("sample")
    (data / "scratch.tmp").write_text("scratch")
    return data


def test_manifest_transfer_then_delete(local_globus, collections, tmp_path):
    data = write_source(collections)
    transfer_manifest = tmp_path / "copy.txt"
    transfer_manifest.write_text(
        "# relative paths are joined to source_path and destination_path\n"
        "--recursive 'run 1' 'run 1'\n"
        "Probe_Müller.txt archive/Probe_Müller.txt\n",
        encoding="utf-8",
    )
    delete_manifest = tmp_path / "remove.csv"
    delete_manifest.write_text('path\n"run 1"\nProbe_Müller.txt\n', encoding="utf-8")

    dag_run = run_dag(
        "globus_ops_manifest",
        conf={
            "transfer_manifest": str(transfer_manifest),
            "delete_manifest": str(delete_manifest),
        },
    )

    assert task_states(dag_run) == {"transfer": "success", "delete": "success"}
    copy = collections["destination"] / "copy"
    assert (copy / "run 1" / "lane" / "reads.fastq").read_text() == "@read\nACGT\n"
    assert (copy / "archive" / "Probe_Müller.txt").read_text() == "sample"
    assert sorted(path.name for path in data.iterdir()) == ["scratch.tmp"]
    assert [task["type"] for task in local_globus.tasks()] == ["TRANSFER", "DELETE"]


def test_bad_manifest_line_submits_nothing(local_globus, collections, tmp_path, capfd, caplog):
    write_source(collections)
    transfer_manifest = tmp_path / "copy.jsonl"
    transfer_manifest.write_text(
        '{"source_path": "Probe_Müller.txt", "destination_path": "Probe_Müller.txt"}\n'
        '{"source_path": "run 1", "destination_path": "run 1", "recursive": "yes"}\n',
        encoding="utf-8",
    )

    dag_run = run_dag(
        "globus_ops_manifest",
        conf={"transfer_manifest": str(transfer_manifest), "delete_manifest": "/unused.txt"},
    )

    assert task_states(dag_run)["transfer"] == "failed"
    # dag.test() writes the task log, with the exception, to standard output.
    assert "copy.jsonl line 2: recursive='yes' must be true or false." in logged_text(capfd, caplog)
    assert local_globus.tasks() == []
    assert local_globus.stats.submissions_accepted == 0
    assert not any(route.startswith("POST") for route in local_globus.stats.requests)
