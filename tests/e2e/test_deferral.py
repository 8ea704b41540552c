"""Deferrable transfers run by dag.test(), whose triggers run inline, against the local service."""

from __future__ import annotations

import pytest

from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import (
    AIRFLOW_3,
    in_background,
    newest_run_xcoms,
    task_instance_state,
    task_reads,
)

pytestmark = pytest.mark.usefixtures("airflow_db")

DAG_ID = "globus_e2e_deferred_transfer"
PAYLOAD = bytes(range(256)) * 64


def write_tree(root):
    (root / "data" / "nested").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("alpha\n")
    (root / "data" / "nested" / "b.bin").write_bytes(PAYLOAD)
    (root / "data" / "nested" / "c.txt").write_text("gamma\n")


def test_deferred_transfer_succeeds_with_link(local_globus, collections):
    write_tree(collections["source"])
    seen = {}

    def look_while_deferred():
        # The operator reads the task once before it defers; later reads come
        # from the trigger, and the held task cannot end before the release.
        reads.wait_for_reads(3)
        seen["xcoms"] = newest_run_xcoms(DAG_ID, "transfer")
        seen["state"] = task_instance_state(DAG_ID, "transfer")

    local_globus.hold_tasks()
    with task_reads(local_globus) as reads:
        with in_background(look_while_deferred, cleanup=local_globus.release_tasks, reads=reads):
            dag_run = run_dag(DAG_ID)

    assert task_states(dag_run) == {"transfer": "success"}
    globus_task_id = xcom_value(dag_run, "transfer")
    task = local_globus.get_task(globus_task_id)
    assert task["status"] == "SUCCEEDED"
    assert len(local_globus.tasks()) == 1
    assert (collections["destination"] / "data" / "nested" / "b.bin").read_bytes() == PAYLOAD

    summary = xcom_value(dag_run, "transfer", key="globus_task_summary")
    assert summary["globus_task_id"] == globus_task_id
    assert summary["status"] == "SUCCEEDED"
    assert summary["files_transferred"] == 3
    assert summary["files_transferred"] == task["files_transferred"]
    assert summary["bytes_transferred"] == task["bytes_transferred"]
    assert summary["duration_seconds"] is not None

    url = f"{local_globus.web_app_url.rstrip('/')}/activity/{globus_task_id}"
    assert xcom_value(dag_run, "transfer", key="globus_task_url") == url
    assert seen["xcoms"]["globus_task_id"] == globus_task_id
    assert seen["xcoms"]["globus_task_url"] == url
    assert "globus_task_summary" not in seen["xcoms"]
    # dag.test() moves a deferred task instance on (to queued on Airflow 3, to
    # scheduled on Airflow 2) while it runs the trigger inline; under a real
    # triggerer the state is "deferred".
    if AIRFLOW_3:
        assert seen["state"] == "queued"
        # Airflow 3 writes the link's own XCom when the task defers, and the UI
        # reads that one; Airflow 2 calls get_link() when the UI asks.
        assert seen["xcoms"]["_link_GlobusTaskLink"] == url
    else:
        assert seen["state"] == "scheduled"
