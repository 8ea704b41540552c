"""Cancels that reach the local Globus service: on timeout, on kill, and from a trigger's on_kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import globus_sdk
import pytest

from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.triggers.task import GlobusTaskTrigger
from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import AIRFLOW_3, WAIT_TIMEOUT, logged_text, task_reads

pytestmark = pytest.mark.usefixtures("airflow_db")

SOURCE_COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DESTINATION_COLLECTION = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"


def write_tree(root):
    (root / "data").mkdir()
    (root / "data" / "sample.txt").write_text("sample\n")


def assert_canceled(task):
    assert task["status"] == "FAILED"
    assert task["fatal_error"]["code"] == "CANCELED"


def test_timeout_cancels_globus_task(local_globus, collections, capfd, caplog):
    write_tree(collections["source"])
    # Held tasks never finish, so both waits pass their timeout of 1 s.
    local_globus.hold_tasks()

    dag_run = run_dag("globus_e2e_timeout")
    output = logged_text(capfd, caplog)

    assert task_states(dag_run) == {"blocking": "failed", "deferred": "failed"}
    for task_id in ("blocking", "deferred"):
        globus_task_id = xcom_value(dag_run, task_id, key="globus_task_id")
        assert_canceled(local_globus.get_task(globus_task_id))
        assert f"Timeout passed: cancelling Globus task {globus_task_id}" in output
    assert not (collections["destination"] / "blocking").exists()
    assert not (collections["destination"] / "deferred").exists()


def test_sigterm_cancels_blocking_wait(local_globus, collections, tmp_path):
    write_tree(collections["source"])
    local_globus.hold_tasks()
    airflow = str(Path(sys.executable).with_name("airflow"))
    log_path = tmp_path / "dags-test.log"

    with task_reads(local_globus) as reads, open(log_path, "w") as log:
        process = subprocess.Popen(
            [airflow, "dags", "test", "globus_e2e_kill"],
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Two reads mean the operator submitted and is in its blocking wait.
            globus_task_id = reads.wait_for_reads(2)
            # `airflow dags test` runs the task inside its own process, where
            # Airflow's SIGTERM handler calls the operator's on_kill().
            process.send_signal(signal.SIGTERM)
            task = local_globus.wait_for_task(globus_task_id, timeout=WAIT_TIMEOUT)
            process.wait(timeout=WAIT_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    output = log_path.read_text()
    assert_canceled(task)
    assert process.returncode != 0
    assert f"Airflow task killed: cancelling Globus task {globus_task_id}" in output
    if AIRFLOW_3:
        # Airflow 3's handler returns after on_kill(), and the wait sees the cancel.
        assert f"Globus task {globus_task_id} failed with CANCELED" in output
    else:
        # Airflow 2's handler raises once on_kill() returned.
        assert "AirflowTaskTerminated" in output
    assert len(local_globus.tasks()) == 1


def submit_held_transfer(local_globus):
    hook = GlobusHook()
    data = globus_sdk.TransferData(
        source_endpoint=SOURCE_COLLECTION, destination_endpoint=DESTINATION_COLLECTION
    )
    data.add_item("/data", "/data", recursive=True)
    local_globus.hold_tasks()
    return hook.transfer_client.submit_transfer(data)["task_id"]


async def cancel_like_triggerer(trigger, reads):
    """Run the trigger until it polled twice, cancel it, then call on_kill(), as Airflow does.

    On Airflow 3.3 the triggerer cancels a trigger's asyncio task when a user
    marks or clears the deferred task, and then awaits its ``on_kill()``.
    """
    waiting = asyncio.ensure_future(anext(trigger.run()))
    await asyncio.to_thread(reads.wait_for_reads, 2)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await trigger.on_kill()


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_trigger_on_kill_honours_setting(local_globus, collections, cancel_on_kill):
    write_tree(collections["source"])
    globus_task_id = submit_held_transfer(local_globus)
    trigger = GlobusTaskTrigger(
        globus_task_id=globus_task_id, poll_interval=0.2, cancel_on_kill=cancel_on_kill
    )

    with task_reads(local_globus) as reads:
        asyncio.run(cancel_like_triggerer(trigger, reads))

    task = local_globus.get_task(globus_task_id)
    if cancel_on_kill:
        assert_canceled(task)
    else:
        assert task["status"] == "ACTIVE"
