"""dry_run=True renders task documents to XCom and sends no request that changes state."""

from __future__ import annotations

import re

import pytest

from tests.airflow_runs import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")

SRC = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
DST = "a1f316bb-8da4-5c34-bb27-46cf7c205e9e"


def test_dry_run_submits_nothing(local_globus):
    before = local_globus.stats
    dag_run = run_dag("globus_ops_dry_run")
    after = local_globus.stats

    assert task_states(dag_run) == {"transfer": "success", "delete": "success"}
    assert after.submissions_accepted == before.submissions_accepted == 0
    assert local_globus.tasks() == []
    changing = [route for route in after.requests if not route.startswith("GET ")]
    assert changing == []
    assert not any("submission_id" in route for route in after.requests)
    assert after.token_grants == before.token_grants


def test_dry_run_documents_in_xcom(local_globus):
    dag_run = run_dag("globus_ops_dry_run")

    assert xcom_value(dag_run, "transfer") is None
    first, second = xcom_value(dag_run, "transfer", key="globus_task_documents")
    assert re.fullmatch(r"Nightly copy part 1 of 2 \[af-[0-9a-f]{20}\]", first["label"])
    assert re.fullmatch(r"Nightly copy part 2 of 2 \[af-[0-9a-f]{20}\]", second["label"])
    assert [item["source_path"] for item in first["DATA"]] == ["/data/a.txt", "/data/b.txt"]
    assert second["DATA"] == [
        {
            "DATA_TYPE": "transfer_item",
            "source_path": "/data/sub",
            "destination_path": "/copy/sub",
            "recursive": True,
        }
    ]
    for document in (first, second):
        assert document["source_endpoint"] == SRC
        assert document["destination_endpoint"] == DST
        assert document["sync_level"] == 3
        assert document["deadline"].endswith("+00:00")
        assert "submission_id" not in document

    [delete] = xcom_value(dag_run, "delete", key="globus_task_documents")
    assert delete["DATA_TYPE"] == "delete"
    assert delete["endpoint"] == SRC
    assert delete["recursive"] is True
    assert [item["path"] for item in delete["DATA"]] == ["/data"]
    assert re.fullmatch(r"Airflow globus_ops_dry_run delete \[af-[0-9a-f]{20}\]", delete["label"])
