"""A retried Airflow task reattaches to the Globus task of its first try."""

from __future__ import annotations

import re
import threading

import pytest

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag, task_states, xcom_value
from tests.e2e.controls import logged_text

pytestmark = pytest.mark.usefixtures("airflow_db")

TASK_ROUTE = re.compile(r"^/transfer/v0\.10/task/[0-9a-f-]+$")


def fail_task_reads(service, count, *, skip=0):
    """Fail task reads with an offline-collection 502, which the SDK does not retry.

    The first ``skip`` reads pass, the next ``count`` fail, and later ones pass.
    Returns a function that tells whether all ``count`` failures were served.
    """
    seen = [0]
    lock = threading.Lock()

    def hook(method, path):
        if method != "GET" or not TASK_ROUTE.match(path):
            return None
        with lock:
            seen[0] += 1
            if not skip < seen[0] <= skip + count:
                return None
        return 502, {
            "code": "ExternalError.DirListingFailed.GCDisconnected",
            "message": "The collection is offline",
            "request_id": "hook",
            "resource": path,
        }

    service.add_request_hook(hook)
    return lambda: seen[0] >= skip + count


def test_retry_reattaches_instead_of_resubmitting(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=0)
    fail_task_reads(local_globus, count=2)

    dag_run = run_dag("globus_retry_reattach")

    assert task_states(dag_run) == {"transfer": "success"}
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [2]
    assert local_globus.stats.submissions_accepted == 1
    assert local_globus.stats.submissions_duplicate == 0
    assert len(local_globus.tasks()) == 1
    assert xcom_value(dag_run, "transfer") == local_globus.tasks()[0]["task_id"]
    assert tree_differences(collections["source"], collections["destination"]) == []


def test_deferred_retry_reattaches(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=0)
    local_globus.hold_tasks()
    failures_served = fail_task_reads(local_globus, count=2, skip=1)

    def release_after_failures():
        local_globus.wait_until(failures_served, description="failed task reads")
        local_globus.release_tasks()

    releaser = threading.Thread(target=release_after_failures, daemon=True)
    releaser.start()
    dag_run = run_dag("globus_retry_reattach_deferred")
    releaser.join(timeout=5)

    assert task_states(dag_run) == {"transfer": "success"}
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [2]
    assert local_globus.stats.submissions_accepted == 1
    assert local_globus.stats.submissions_duplicate == 0
    assert len(local_globus.tasks()) == 1
    assert tree_differences(collections["source"], collections["destination"]) == []


def test_failed_task_is_submitted_again(local_globus, collections, capfd, caplog):
    write_sample_dataset(collections["source"], large_files=0)
    local_globus.hold_tasks()

    def expire_first_task():
        local_globus.wait_until(
            lambda: local_globus.stats.submissions_accepted == 1, description="first submission"
        )
        first = local_globus.tasks()[0]["task_id"]
        local_globus.expire_task(first)
        local_globus.wait_until(
            lambda: local_globus.stats.submissions_accepted == 2, description="resubmission"
        )
        local_globus.release_tasks()

    helper = threading.Thread(target=expire_first_task, daemon=True)
    helper.start()
    dag_run = run_dag("globus_resubmit_failed")
    helper.join(timeout=5)
    output = logged_text(capfd, caplog)

    assert task_states(dag_run) == {"transfer": "success"}
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [2]
    statuses = sorted(task["status"] for task in local_globus.tasks())
    assert statuses == ["FAILED", "SUCCEEDED"]
    assert local_globus.stats.submissions_accepted == 2
    assert "of an earlier try FAILED; submitting the task again" in output
    assert "only sync_level='checksum' is sure to copy them again" in output
    assert tree_differences(collections["source"], collections["destination"]) == []
