"""A connection stored in Airflow's database works in the worker and in the trigger."""

from __future__ import annotations

import json

import pytest

from tests.airflow_runs import run_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture
def database_connection(local_globus):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    details = json.loads(local_globus.connection_json())
    connection = Connection(
        conn_id="globus_lab_db",
        conn_type="globus",
        login=details["login"],
        password=details["password"],
        extra=json.dumps(details["extra"]),
    )
    with create_session() as session:
        session.add(connection)
    yield connection
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "globus_lab_db").delete()


def test_database_connection_blocking_and_deferred(local_globus, collections, database_connection):
    from globus_airflow.testing.sample_data import write_sample_dataset

    write_sample_dataset(collections["source"], large_files=0)

    dag_run = run_dag("globus_db_connection")

    assert task_states(dag_run) == {"transfer_blocking": "success", "transfer_deferred": "success"}
    for mode in ("blocking", "deferred"):
        copied = collections["destination"] / mode / "RunInfo.xml"
        assert copied.read_bytes() == (
            collections["source"] / "run_2026-11-30_A01" / "RunInfo.xml"
        ).read_bytes()
