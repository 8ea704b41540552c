"""GlobusTaskTrigger: serialization and its one terminal event, with an in-process fake client."""

from __future__ import annotations

import asyncio
import time
import types

import pytest

from globus_airflow.triggers.task import GlobusTaskTrigger


def make_trigger(**overrides):
    arguments = {
        "globus_task_id": "T1",
        "globus_conn_id": "globus_lab",
        "poll_interval": 0.01,
        "end_time": None,
        "stall_timeout": 60.0,
        "heartbeat_interval": None,
        "cancel_on_kill": True,
        "transient_error_budget": 5.0,
    }
    arguments.update(overrides)
    return GlobusTaskTrigger(**arguments)


def test_serialize_round_trip():
    trigger = make_trigger(end_time=1_900_000_000.0)
    classpath, kwargs = trigger.serialize()

    assert classpath == "globus_airflow.triggers.task.GlobusTaskTrigger"
    assert kwargs == {
        "globus_task_id": "T1",
        "globus_conn_id": "globus_lab",
        "poll_interval": 0.01,
        "end_time": 1_900_000_000.0,
        "stall_timeout": 60.0,
        "heartbeat_interval": None,
        "cancel_on_kill": True,
        "transient_error_budget": 5.0,
    }
    assert GlobusTaskTrigger(**kwargs).serialize() == (classpath, kwargs)


class FakeResponse:
    def __init__(self, data):
        self.data = data

    def __getitem__(self, key):
        return self.data[key]


class FakeClient:
    """Returns a scripted sequence of task documents; the last one repeats."""

    def __init__(self, documents):
        self.documents = list(documents)
        self.cancelled = []

    def get_task(self, task_id):
        document = self.documents.pop(0) if len(self.documents) > 1 else self.documents[0]
        return FakeResponse(dict(document, task_id=task_id))

    def task_event_list(self, task_id, **kwargs):
        return [{"code": "ENDPOINT_ERROR", "description": "disk offline", "details": ""}]

    def cancel_task(self, task_id):
        self.cancelled.append(task_id)
        return {"code": "Canceled"}


def run_with(trigger, client, monkeypatch):
    class FakeHook:
        transfer_client = client
        credentials = types.SimpleNamespace(client_identity="app@clients.auth.globus.org")

    async def build_hook():
        return FakeHook()

    monkeypatch.setattr(trigger, "_build_hook", build_hook)

    async def collect():
        return [event async for event in trigger.run()]

    return asyncio.run(collect())


def test_success_event_carries_counters(monkeypatch):
    client = FakeClient(
        [
            {"status": "ACTIVE", "nice_status": "OK", "bytes_transferred": 1},
            {"status": "SUCCEEDED", "nice_status": None, "files_transferred": 2},
        ]
    )
    events = run_with(make_trigger(), client, monkeypatch)

    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "success"
    assert payload["globus_task_id"] == "T1"
    assert payload["summary"]["files_transferred"] == 2


def test_failed_event_quotes_error_events(monkeypatch):
    client = FakeClient(
        [{"status": "FAILED", "fatal_error": {"code": "ENDPOINT_ERROR", "description": "x"}}]
    )
    payload = run_with(make_trigger(), client, monkeypatch)[0].payload

    assert payload["status"] == "failed"
    assert payload["code"] == "ENDPOINT_ERROR"
    assert "disk offline" in payload["message"]


def test_timeout_event_when_end_time_passed(monkeypatch):
    client = FakeClient([{"status": "ACTIVE", "nice_status": "OK"}])
    payload = run_with(make_trigger(end_time=time.time() - 1), client, monkeypatch)[0].payload

    assert payload["status"] == "timeout"
    assert payload["task_status"] == "ACTIVE"


def test_exception_becomes_error_event(monkeypatch):
    class BrokenClient(FakeClient):
        def get_task(self, task_id):
            raise RuntimeError("boom")

    payload = run_with(make_trigger(), BrokenClient([{}]), monkeypatch)[0].payload

    assert payload["status"] == "error"
    assert "boom" in payload["message"]


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_on_kill_cancels_only_when_asked(monkeypatch, cancel_on_kill):
    client = FakeClient([{"status": "FAILED", "fatal_error": {"code": "CANCELED"}}])
    trigger = make_trigger(cancel_on_kill=cancel_on_kill)

    class FakeHook:
        transfer_client = client
        credentials = types.SimpleNamespace(client_identity="app@clients.auth.globus.org")

    async def build_hook():
        return FakeHook()

    monkeypatch.setattr(trigger, "_build_hook", build_hook)
    asyncio.run(trigger.on_kill())

    assert client.cancelled == (["T1"] if cancel_on_kill else [])


@pytest.mark.parametrize("end_time", [None, 1_900_000_000.5])
def test_round_trip_through_trigger_row(end_time):
    """The triggerer rebuilds the trigger from the encrypted kwargs of its database row."""
    from airflow.models.trigger import Trigger

    trigger = make_trigger(end_time=end_time, stall_timeout=None, heartbeat_interval=300.0)
    row = Trigger.from_object(trigger)
    rebuilt = GlobusTaskTrigger(**row.kwargs)

    assert row.classpath == "globus_airflow.triggers.task.GlobusTaskTrigger"
    assert rebuilt.serialize() == trigger.serialize()
    assert rebuilt.end_time == end_time
    assert rebuilt.stall_timeout is None
