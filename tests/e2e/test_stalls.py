"""Stall rules in real DAG runs: a fault that needs a human fails, a queue does not."""

from __future__ import annotations

import pytest

from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import in_background, task_reads

pytestmark = pytest.mark.usefixtures("airflow_db")

READS_PAST_STALL_TIMEOUT = 8
"""Status reads after which a wait has lasted longer than the DAGs' stall_timeout.

The test DAGs poll every 0.2 s with stall_timeout=0.5 s. Eight reads span at
least 1.2 s, or 1.0 s of trigger reads after the operator's single read
before it defers.
"""


def failure_message(output: str, globus_task_id: str) -> str:
    """Return the logged GlobusTaskFatalError message about one Globus task."""
    marker = f"GlobusTaskFatalError: Globus task {globus_task_id} "
    start = output.index(marker)
    return output[start : start + 1000]


def test_stall_fails_without_retry(local_globus, capfd):
    dag_run = run_dag("globus_e2e_stall")
    captured = capfd.readouterr()
    output = captured.out + captured.err

    assert task_states(dag_run) == {"blocking": "failed", "deferred": "failed"}
    for task_id in ("blocking", "deferred"):
        ti = dag_run.get_task_instance(task_id)
        globus_task_id = xcom_value(dag_run, task_id, key="globus_task_id")
        task = local_globus.get_task(globus_task_id)
        message = failure_message(output, globus_task_id)

        # retries=1 in the DAG: a retried failure would end on try 2.
        assert ti.try_number == 1
        # The provider fails the wait, and leaves the Globus task for a human to fix or cancel.
        assert task["status"] == "ACTIVE"
        assert task["nice_status"] == "FILE_NOT_FOUND"
        assert "made no progress for" in message
        assert "(stall_timeout=0.5 s) because of FILE_NOT_FOUND" in message
        assert f"FILE_NOT_FOUND /missing-{task_id}.txt" in message
        assert "Likely fix: check that the source path exists on the source collection." in message
        assert "The Globus task is still ACTIVE" in message
    assert len(local_globus.tasks()) == 2


def test_queued_task_does_not_stall(local_globus, collections):
    (collections["source"] / "data").mkdir()
    (collections["source"] / "data" / "sample.txt").write_text("sample\n")
    queued_documents = {}

    def unblock(number):
        # The blocker's source file appears; its next retry, due after one
        # retry interval on the service clock, copies it and frees the slot.
        (collections["source"] / f"later-{number}.txt").write_text(f"blocker {number}\n")
        local_globus.advance_clock(local_globus.retry_interval)

    def unblock_when_waited_past_stall_timeout():
        blocking_task = reads.wait_for_reads(READS_PAST_STALL_TIMEOUT)
        queued_documents["blocking"] = local_globus.get_task(blocking_task)
        unblock(1)

        deferred_task = reads.wait_for_reads(READS_PAST_STALL_TIMEOUT, exclude={blocking_task})
        queued_documents["deferred"] = local_globus.get_task(deferred_task)
        unblock(2)

    def unblock_all():
        for number in range(1, 5):
            unblock(number)

    with task_reads(local_globus) as reads:
        with in_background(
            unblock_when_waited_past_stall_timeout, cleanup=unblock_all, reads=reads
        ):
            dag_run = run_dag("globus_e2e_queued")

    states = task_states(dag_run)
    assert states["blocking"] == "success"
    assert states["deferred"] == "success"
    for task_id in ("blocking", "deferred"):
        globus_task_id = xcom_value(dag_run, task_id)
        queued = queued_documents[task_id]
        assert queued["task_id"] == globus_task_id
        assert queued["status"] == "ACTIVE"
        assert queued["nice_status"] == "Queued"
        assert queued["files_transferred"] == 0
        assert local_globus.get_task(globus_task_id)["status"] == "SUCCEEDED"
        assert (collections["destination"] / task_id / "sample.txt").read_text() == "sample\n"


def test_no_stall_timeout_waits_for_deadline(local_globus, capfd):
    stalled_documents = {}

    def expire_when_waited_past_stall_timeout():
        blocking_task = reads.wait_for_reads(READS_PAST_STALL_TIMEOUT)
        stalled_documents["blocking"] = local_globus.get_task(blocking_task)
        # The deadlines are 1 hour (blocking) and 4 hours (deferred) after submission.
        local_globus.advance_clock(2 * 3600)

        deferred_task = reads.wait_for_reads(READS_PAST_STALL_TIMEOUT, exclude={blocking_task})
        stalled_documents["deferred"] = local_globus.get_task(deferred_task)
        local_globus.advance_clock(3 * 3600)

    def expire_all():
        local_globus.advance_clock(5 * 3600)

    with task_reads(local_globus) as reads:
        with in_background(expire_when_waited_past_stall_timeout, cleanup=expire_all, reads=reads):
            dag_run = run_dag("globus_e2e_deadline")
    captured = capfd.readouterr()
    output = captured.out + captured.err

    assert task_states(dag_run) == {"blocking": "failed", "deferred": "failed"}
    for task_id in ("blocking", "deferred"):
        globus_task_id = xcom_value(dag_run, task_id, key="globus_task_id")
        stalled = stalled_documents[task_id]
        task = local_globus.get_task(globus_task_id)

        assert stalled["task_id"] == globus_task_id
        assert stalled["status"] == "ACTIVE"
        assert stalled["nice_status"] == "FILE_NOT_FOUND"
        assert task["status"] == "FAILED"
        assert task["fatal_error"]["code"] == "EXPIRED"
        assert f"Globus task {globus_task_id} failed with EXPIRED" in output
    assert "Likely fix: set a later deadline" in output
