"""GlobusPathSensor against the local Globus service: pokes, patterns, and the three wait modes."""

from __future__ import annotations

import threading

import pytest

from airflow.providers.common.compat.sdk import PokeReturnValue
from globus_airflow.exceptions import GlobusError, GlobusInputError
from globus_airflow.sensors.path import GlobusPathSensor
from globus_airflow.triggers.path import GlobusPathTrigger

COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"
STAT_ROUTE = f"/transfer/v0.10/operation/endpoint/{COLLECTION}/stat"
OFFLINE = {
    "code": "ExternalError.DirListingFailed.GCDisconnected",
    "message": "The collection is offline",
    "request_id": "hook",
    "resource": "stat",
}


def sensor(**overrides):
    arguments = {"task_id": "wait", "endpoint": COLLECTION, "path": "/incoming/RTAComplete.txt"}
    arguments.update(overrides)
    return GlobusPathSensor(**arguments)


def answer_stats(service, answers):
    """Respond to the stat requests in turn: ``"offline"`` gets a 502, a callable runs first.

    Requests after the list is used up pass through. Returns the number of
    stat requests seen so far, as a one-item list.
    """
    seen = [0]
    lock = threading.Lock()

    def hook(method, path):
        if method != "GET" or path != STAT_ROUTE:
            return None
        with lock:
            seen[0] += 1
            answer = answers[seen[0] - 1] if seen[0] <= len(answers) else None
        if answer == "offline":
            return 502, OFFLINE
        if callable(answer):
            answer()
        return None

    service.add_request_hook(hook)
    return seen


def test_poke_missing_then_present(local_globus, collections):
    waiting = sensor()
    assert waiting.poke(context={}) is False

    marker = collections["source"] / "incoming" / "RTAComplete.txt"
    marker.parent.mkdir()
    marker.write_text("done")
    found = waiting.poke(context={})

    assert isinstance(found, PokeReturnValue)
    assert found.is_done
    [entry] = found.xcom_value
    assert entry["path"] == "/incoming/RTAComplete.txt"
    assert entry["name"] == "RTAComplete.txt"
    assert entry["type"] == "file"
    assert entry["size"] == 4


def test_poke_offline_collection_is_not_yet(local_globus, collections):
    marker = collections["source"] / "incoming" / "RTAComplete.txt"
    marker.parent.mkdir()
    marker.write_text("done")
    seen = answer_stats(local_globus, ["offline", "offline"])
    waiting = sensor()

    assert waiting.poke(context={}) is False
    assert waiting.poke(context={}) is False
    assert waiting.poke(context={}).is_done
    assert seen[0] == 3


def test_poke_permission_denied_fails(local_globus):
    def deny(method, path):
        if path == STAT_ROUTE:
            return 403, {"code": "EndpointPermissionDenied", "message": "Denied", "request_id": "x"}
        return None

    local_globus.add_request_hook(deny)
    with pytest.raises(GlobusError, match="HTTP 403 EndpointPermissionDenied"):
        sensor().poke(context={})


def test_poke_unknown_collection_fails(local_globus):
    waiting = sensor(endpoint="0b7e5d1c-7f43-4c5e-9d67-1f7c3c9e2a10")
    with pytest.raises(GlobusError, match="HTTP 404 EndpointNotFound"):
        waiting.poke(context={})


def test_pattern_counts_matches(local_globus, collections):
    runs = collections["source"] / "runs"
    (runs / "A01").mkdir(parents=True)
    (runs / "A02").mkdir()
    (runs / "notes.txt").write_text("not a run")
    waiting = sensor(path=None, pattern="/runs/*/RTAComplete.txt", min_matches=2)

    assert waiting.poke(context={}) is False
    (runs / "A01" / "RTAComplete.txt").write_text("done")
    assert waiting.poke(context={}) is False
    (runs / "A02" / "RTAComplete.txt").write_text("done")
    found = waiting.poke(context={})

    assert [entry["path"] for entry in found.xcom_value] == [
        "/runs/A01/RTAComplete.txt",
        "/runs/A02/RTAComplete.txt",
    ]


def test_pattern_with_glob_in_last_component(local_globus, collections):
    fastq = collections["source"] / "run" / "fastq"
    fastq.mkdir(parents=True)
    for name in ("a_R1.fastq.gz", "a_R2.fastq.gz", "a.md5"):
        (fastq / name).write_text(name)

    found = sensor(path=None, pattern="/run/fastq/*.fastq.gz", min_matches=2).poke(context={})
    assert [entry["name"] for entry in found.xcom_value] == ["a_R1.fastq.gz", "a_R2.fastq.gz"]


def test_pattern_missing_directory_is_not_yet(local_globus):
    assert sensor(path=None, pattern="/nowhere/*/done.txt").poke(context={}) is False


SENSOR_BAD_ARGUMENTS = [
    ({"path": None}, "must set exactly one of path and pattern"),
    ({"pattern": "/runs/*"}, "must set exactly one of path and pattern"),
    ({"min_matches": 2}, "min_matches=2 applies to pattern only"),
    ({"path": None, "pattern": "/runs/*", "min_matches": 0}, "min_matches=0 must be"),
    ({"path": "incoming/x"}, "path='incoming/x' is a relative path"),
    ({"endpoint": "staging"}, "endpoint='staging' is not a Globus collection id"),
]


@pytest.mark.parametrize(("overrides", "expected"), SENSOR_BAD_ARGUMENTS)
def test_bad_argument_rejected(overrides, expected):
    with pytest.raises(GlobusInputError) as excinfo:
        sensor(**overrides)
    assert expected in str(excinfo.value)


def test_trigger_serialize_round_trip():
    trigger = GlobusPathTrigger(
        endpoint=COLLECTION,
        pattern="/runs/*/RTAComplete.txt",
        min_matches=3,
        local_user="instrument",
        poll_interval=5.0,
        end_time=1_900_000_000.0,
        globus_conn_id="globus_lab",
    )
    classpath, kwargs = trigger.serialize()

    assert classpath == "globus_airflow.triggers.path.GlobusPathTrigger"
    assert kwargs == {
        "endpoint": COLLECTION,
        "path": None,
        "pattern": "/runs/*/RTAComplete.txt",
        "min_matches": 3,
        "local_user": "instrument",
        "poll_interval": 5.0,
        "end_time": 1_900_000_000.0,
        "globus_conn_id": "globus_lab",
    }
    assert GlobusPathTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferred"])
def test_sensor_waits_through_offline_and_missing(local_globus, collections, mode):
    from tests.airflow_runs import run_dag, task_states, xcom_value

    marker = collections["source"] / "incoming" / "RTAComplete.txt"

    def write_marker():
        marker.parent.mkdir(exist_ok=True)
        marker.write_text("RTA 3.4.4 complete\n")

    # Check 1 finds the collection offline and checks 2 and 3 find no marker;
    # check 4 writes the marker just before the service reads it.
    seen = answer_stats(local_globus, ["offline", None, None, write_marker])

    dag_run = run_dag(f"globus_ops_sensor_{mode}")

    assert task_states(dag_run) == {"wait": "success"}
    assert seen[0] == 4
    [entry] = xcom_value(dag_run, "wait")
    assert entry["path"] == "/incoming/RTAComplete.txt"
    assert entry["size"] == len("RTA 3.4.4 complete\n")
