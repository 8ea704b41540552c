"""An access token that expires during a long wait is renewed without failing the wait."""

from __future__ import annotations

import threading

import pytest

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset
from tests.airflow_runs import run_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")

TASK_READS = "GET /transfer/v0.10/task/{task_id}"


def test_expired_token_renewed_mid_wait(local_globus, collections):
    write_sample_dataset(collections["source"], large_files=0)
    local_globus.hold_tasks()
    renewed = threading.Event()

    def expire_then_release():
        local_globus.wait_until(
            lambda: local_globus.stats.requests.get(TASK_READS, 0) >= 2,
            description="two task reads",
        )
        grants_before = local_globus.stats.token_grants
        local_globus.expire_tokens()
        local_globus.wait_until(
            lambda: local_globus.stats.token_grants > grants_before,
            description="a new token grant",
        )
        renewed.set()
        local_globus.release_tasks()

    helper = threading.Thread(target=expire_then_release, daemon=True)
    helper.start()
    dag_run = run_dag("globus_token_expiry")
    helper.join(timeout=5)

    assert task_states(dag_run) == {"transfer": "success"}
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [1]
    assert renewed.is_set()
    assert len(local_globus.tasks()) == 1
    assert tree_differences(collections["source"], collections["destination"]) == []
