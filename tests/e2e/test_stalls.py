"""Stall rules in real DAG runs: a fault that needs a human fails, a queue does not."""

from __future__ import annotations

import pytest

from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import WAIT_TIMEOUT, in_background, logged_text, task_reads

pytestmark = pytest.mark.usefixtures("airflow_db")

READS_PAST_STALL_TIMEOUT = 8
"""Status reads after which a wait has lasted longer than the DAGs' stall_timeout.

The test DAGs poll every 0.2 s with stall_timeout=0.5 s. Eight reads span at
least 1.4 s, or 1.2 s of trigger reads after the operator's single read
before it defers.
"""


def failure_message(output: str, globus_task_id: str) -> str:
    """Return the logged GlobusTaskFatalError message about one Globus task."""
    marker = f"GlobusTaskFatalError: Globus task {globus_task_id} "
    start = output.index(marker)
    return output[start : start + 1000]


def test_stall_fails_without_retry(local_globus, capfd, caplog):
    dag_run = run_dag("globus_e2e_stall")
    output = logged_text(capfd, caplog)

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


def test_no_stall_timeout_waits_for_deadline(local_globus, capfd, caplog):
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
    output = logged_text(capfd, caplog)

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


def test_task_states_in_both_modes(local_globus, collections, capfd, caplog):
    (collections["source"] / "data").mkdir()
    (collections["source"] / "data" / "sample.txt").write_text("sample\n")
    task_ids = {}
    faulting_documents = {}
    after_failure = {}
    imposed_all = []

    def retire_stalled_tasks():
        # Stalled and paused tasks stay ACTIVE and keep one of the three slots
        # that Globus gives an identity; free them once their Airflow task failed.
        for task_id, globus_task_id in list(task_ids.items()):
            document = local_globus.get_task(globus_task_id)
            if task_id.startswith(("stalled", "paused")) and document["status"] == "ACTIVE":
                after_failure[task_id] = document
                local_globus.expire_task(globus_task_id)

    def prepare_each_submission(method, path):
        # Runs before the service handles the request. dag.test() runs one task at
        # a time, so every Airflow task that submitted before has finished, and
        # the new Globus task starts held until the test has imposed its state.
        if method == "POST" and path.endswith("/transfer"):
            retire_stalled_tasks()
            local_globus.hold_tasks()

    def impose(task_id, globus_task_id):
        state = task_id.rsplit("_", 1)[0]
        if state == "stalled":
            local_globus.stall_task(globus_task_id, "PERMISSION_DENIED", path="/data/sample.txt")
        elif state == "transient":
            local_globus.stall_task(globus_task_id, "CONNECTION_BROKEN")
            reads.wait_for_reads_of(
                globus_task_id, reads.counts[globus_task_id] + READS_PAST_STALL_TIMEOUT
            )
            faulting_documents[task_id] = local_globus.get_task(globus_task_id)
            local_globus.resume_task(globus_task_id)
            local_globus.release_tasks()
        elif state == "inactive":
            local_globus.make_inactive(globus_task_id)
        elif state == "paused":
            local_globus.admin_pause(globus_task_id, "disk replacement")
        else:
            local_globus.admin_cancel(
                globus_task_id, "storage migration tonight", side="DESTINATION"
            )

    def impose_each_state():
        while len(task_ids) < 10:
            # Two reads mean the wait has begun: in deferred mode, in the trigger.
            globus_task_id = reads.wait_for_reads(2, exclude=set(task_ids.values()))
            # A task that holds a slot reports its faults; a queued one reports "Queued".
            local_globus.wait_until(
                lambda task=globus_task_id: local_globus.get_task(task)["nice_status"] != "Queued",
                timeout=WAIT_TIMEOUT,
                description=f"Globus task {globus_task_id} leaves the queue",
            )
            task_id = local_globus.get_task(globus_task_id)["label"].split(" [")[0]
            task_ids[task_id] = globus_task_id
            impose(task_id, globus_task_id)
        imposed_all.append(True)

    def let_everything_finish():
        remove_hook()
        local_globus.release_tasks()
        if imposed_all:
            return
        # A step failed: end every Globus task, so that the DAG run ends too.
        for document in local_globus.tasks():
            if document["status"] not in ("SUCCEEDED", "FAILED"):
                local_globus.expire_task(document["task_id"])

    remove_hook = local_globus.add_request_hook(prepare_each_submission)
    with task_reads(local_globus) as reads:
        with in_background(impose_each_state, cleanup=let_everything_finish, reads=reads):
            dag_run = run_dag("globus_e2e_task_states")
    output = logged_text(capfd, caplog)

    states = task_states(dag_run)
    # One Globus task per Airflow task: the INACTIVE tasks' retries reattached.
    assert len(local_globus.tasks()) == 10
    for mode in ("blocking", "deferred"):
        stalled = task_ids[f"stalled_{mode}"]
        assert states[f"stalled_{mode}"] == "failed"
        assert dag_run.get_task_instance(f"stalled_{mode}").try_number == 1
        assert after_failure.get(f"stalled_{mode}", local_globus.get_task(stalled))["status"] == (
            "ACTIVE"
        )
        message = failure_message(output, stalled)
        assert "(stall_timeout=0.5 s) because of PERMISSION_DENIED" in message
        assert "PERMISSION_DENIED /data/sample.txt" in message
        assert "Likely fix: grant the app's identity" in message

        transient = faulting_documents[f"transient_{mode}"]
        assert states[f"transient_{mode}"] == "success"
        assert transient["status"] == "ACTIVE"
        assert transient["nice_status"] == "CONNECTION_BROKEN"
        assert local_globus.get_task(task_ids[f"transient_{mode}"])["status"] == "SUCCEEDED"

        inactive = task_ids[f"inactive_{mode}"]
        assert states[f"inactive_{mode}"] == "failed"
        # INACTIVE can clear up, so Airflow's retry applies and waits on the same task.
        assert dag_run.get_task_instance(f"inactive_{mode}").try_number == 2
        assert local_globus.get_task(inactive)["status"] == "INACTIVE"
        assert f"Globus task {inactive} is INACTIVE (AUTH: " in output

        paused = task_ids[f"paused_{mode}"]
        assert states[f"paused_{mode}"] == "failed"
        assert dag_run.get_task_instance(f"paused_{mode}").try_number == 1
        message = failure_message(output, paused)
        assert "because of PAUSED" in message
        assert "Likely fix: ask the collection's administrator" in message

        canceled = task_ids[f"admin_canceled_{mode}"]
        assert states[f"admin_canceled_{mode}"] == "failed"
        assert dag_run.get_task_instance(f"admin_canceled_{mode}").try_number == 1
        message = failure_message(output, canceled)
        assert "failed with CANCELED" in message
        assert "administrator of the destination collection canceled it" in message
        assert "storage migration tonight" in message
