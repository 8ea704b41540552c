"""Authorization failures seen through real DAG runs: a refused consent and a guest collection without access."""

from __future__ import annotations

import pytest

from globus_airflow.hooks.consents import TRANSFER_SCOPE, transfer_scope
from tests.airflow_runs import run_dag, task_states
from tests.e2e.controls import logged_text

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_mapped_collections_need_no_setup(local_globus, collections):
    (collections["source"] / "data.txt").write_text("payload\n")
    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )

    dag_run = run_dag("globus_auth_consent_refused")

    assert task_states(dag_run) == {"transfer": "success"}
    assert (collections["destination"] / "data.txt").read_text() == "payload\n"
    assert local_globus.stats.token_grant_scopes == (
        TRANSFER_SCOPE,
        transfer_scope([source, destination]),
    )
    assert local_globus.stats.requests["POST /transfer/v0.10/transfer"] == 1


def test_refused_consent_fails_without_retry(local_globus, collections, capfd, caplog):
    (collections["source"] / "data.txt").write_text("payload\n")
    local_globus.refuse_consent("destination")

    dag_run = run_dag("globus_auth_consent_refused")
    output = logged_text(capfd, caplog)

    assert task_states(dag_run) == {"transfer": "failed"}
    assert [ti.try_number for ti in dag_run.get_task_instances()] == [1]
    assert local_globus.tasks() == []
    identity = f"{local_globus.client_id}@clients.auth.globus.org"
    assert f"destination ({local_globus.collection_id('destination')})" in output
    assert f"Ask the collection's administrator to allow {identity}" in output
    assert local_globus.client_secret not in output


def test_guest_collection_without_rule_fails_with_grant(local_globus, tmp_path, capfd, caplog):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    (tmp_path / "shared" / "data.txt").write_text("payload\n")

    dag_run = run_dag("globus_auth_guest_denied")
    output = logged_text(capfd, caplog)

    assert task_states(dag_run) == {"transfer": "failed"}
    task = local_globus.tasks()[0]
    assert task["status"] == "ACTIVE"
    assert task["nice_status"] == "PERMISSION_DENIED"
    identity = f"{local_globus.client_id}@clients.auth.globus.org"
    assert "PERMISSION_DENIED" in output
    assert f"gives {identity} 'r' permissions on /" in output
    assert "access to the path on the collection" in output
    destination = local_globus.collection_id("destination")
    assert local_globus.stats.token_grant_scopes == (TRANSFER_SCOPE, transfer_scope([destination]))
