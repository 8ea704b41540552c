"""Task states imposed by the service's controls, seen through globus-sdk.

Each test starts the task while tasks are held, so its runner waits at its
first step. The runner finds the imposed state there once tasks are released.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from globus_airflow.testing import LocalGlobusService


def start_held_task(service: LocalGlobusService, transfer_client, transfer_data, source_dir: Path) -> str:
    """Submit a two-file transfer while tasks are held; return once the task has a slot."""
    (source_dir / "a.txt").write_text("first file")
    (source_dir / "b.txt").write_text("second file")
    data = transfer_data()
    data.add_item("/a.txt", "/a.txt")
    data.add_item("/b.txt", "/b.txt")

    service.hold_tasks()
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_until(
        lambda: service.get_task(task_id)["nice_status"] == "OK",
        timeout=10,
        description=f"task {task_id} started",
    )
    return task_id


def error_events(transfer_client, task_id: str) -> list[dict]:
    return list(transfer_client.task_event_list(task_id, query_params={"filter": "is_error:1"}))


def all_events(transfer_client, task_id: str) -> list[dict]:
    return list(transfer_client.task_event_list(task_id, query_params={"limit": 100}))


def wait_for_faults(service: LocalGlobusService, task_id: str, count: int) -> None:
    service.wait_until(
        lambda: service.get_task(task_id)["faults"] >= count,
        timeout=10,
        description=f"task {task_id} has {count} faults",
    )


def test_stall_reports_fault_until_resume(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    service.stall_task(task_id, "PERMISSION_DENIED", description="Permission denied", path="/a.txt")
    service.release_tasks()
    stalled = transfer_client.get_task(task_id)
    service.advance_clock(service.retry_interval)
    wait_for_faults(service, task_id, 2)
    still_stalled = transfer_client.get_task(task_id)
    errors = error_events(transfer_client, task_id)

    assert stalled["status"] == "ACTIVE"
    assert stalled["nice_status"] == "PERMISSION_DENIED"
    assert stalled["nice_status_short_description"] == "Permission denied"
    assert stalled["is_ok"] is False
    assert stalled["faults"] == 1
    assert still_stalled["faults"] == 2
    assert still_stalled["files_transferred"] == 0
    assert still_stalled["bytes_transferred"] == 0
    assert [event["code"] for event in errors] == ["PERMISSION_DENIED", "PERMISSION_DENIED"]
    details = json.loads(errors[0]["details"])
    assert details["context"][0]["path"] == "/a.txt"
    assert details["error"]["code"] == "PERMISSION_DENIED"
    assert list(destination_dir.iterdir()) == []

    service.resume_task(task_id)
    done = service.wait_for_task(task_id, timeout=10)

    assert done["status"] == "SUCCEEDED"
    assert done["files_transferred"] == 2
    assert done["faults"] == 2
    assert (destination_dir / "b.txt").read_text() == "second file"


def test_stall_without_path_has_text_details(service, transfer_client, transfer_data, source_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    service.stall_task(task_id, "ENDPOINT_TOO_BUSY")
    service.release_tasks()
    document = transfer_client.get_task(task_id)
    errors = error_events(transfer_client, task_id)
    transfer_client.cancel_task(task_id)

    assert document["nice_status"] == "ENDPOINT_TOO_BUSY"
    assert document["nice_status_short_description"] == "endpoint too busy"
    assert errors[0]["details"] == "endpoint too busy"


def test_stalled_task_expires_at_deadline(service, transfer_client, transfer_data, source_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)
    service.stall_task(task_id, "QUOTA_EXCEEDED", path="/a.txt")
    service.release_tasks()

    service.advance_clock(25 * 3600)
    document = service.wait_for_task(task_id, timeout=10)
    codes = [event["code"] for event in all_events(transfer_client, task_id)]

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "EXPIRED"
    assert document["nice_status"] is None
    assert document["is_ok"] is None
    assert codes[0] == "EXPIRED"
    assert "QUOTA_EXCEEDED" in codes


def test_inactive_until_resume(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    service.make_inactive(task_id)
    service.release_tasks()
    document = transfer_client.get_task(task_id)
    listed = list(transfer_client.task_list(query_params={"filter": "status:INACTIVE"}))

    assert document["status"] == "INACTIVE"
    assert document["nice_status"] == "AUTH"
    assert document["nice_status_short_description"] == "the credentials for a collection expired"
    assert document["is_ok"] is False
    assert document["completion_time"] is None
    assert [task["task_id"] for task in listed] == [task_id]
    assert list(destination_dir.iterdir()) == []

    service.resume_task(task_id)
    done = service.wait_for_task(task_id, timeout=10)

    assert done["status"] == "SUCCEEDED"
    assert done["files_transferred"] == 2


def test_inactive_task_expires_at_deadline(service, transfer_client, transfer_data, source_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)
    service.make_inactive(task_id, nice_status="NO_CREDENTIALS", description="no credentials")
    service.release_tasks()

    service.advance_clock(25 * 3600)
    document = service.wait_for_task(task_id, timeout=10)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "EXPIRED"


def test_admin_pause_and_resume(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    service.admin_pause(task_id, message="storage maintenance until noon")
    service.release_tasks()
    paused = transfer_client.get_task(task_id)
    paused_events = all_events(transfer_client, task_id)

    assert paused["status"] == "ACTIVE"
    assert paused["is_paused"] is True
    assert paused["nice_status"] == "PAUSED"
    assert paused["is_ok"] is False
    assert paused_events[0]["code"] == "PAUSED"
    assert paused_events[0]["details"] == "storage maintenance until noon"
    assert list(destination_dir.iterdir()) == []

    service.admin_resume(task_id)
    done = service.wait_for_task(task_id, timeout=10)
    codes = [event["code"] for event in all_events(transfer_client, task_id)]

    assert done["status"] == "SUCCEEDED"
    assert done["is_paused"] is False
    assert codes.index("UNPAUSED") < codes.index("PAUSED")
    assert (destination_dir / "a.txt").read_text() == "first file"


def test_admin_cancel(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    service.admin_cancel(task_id, message="collection retired", side="DESTINATION")
    service.release_tasks()
    document = transfer_client.get_task(task_id)
    codes = [event["code"] for event in error_events(transfer_client, task_id)]

    assert document["status"] == "FAILED"
    assert document["canceled_by_admin"] == "DESTINATION"
    assert document["canceled_by_admin_message"] == "collection retired"
    assert document["fatal_error"]["code"] == "CANCELED"
    assert document["subtasks_canceled"] == document["subtasks_total"] - document["subtasks_succeeded"]
    assert codes == ["CANCELED"]
    assert list(destination_dir.iterdir()) == []


def test_expire_task_counts_expired_subtasks(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "present.txt").write_text("here")
    data = transfer_data()
    data.add_item("/present.txt", "/present.txt")
    data.add_item("/missing.txt", "/missing.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    wait_for_faults(service, task_id, 1)

    service.expire_task(task_id)
    document = transfer_client.get_task(task_id)
    newest = all_events(transfer_client, task_id)[0]

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "EXPIRED"
    assert document["subtasks_succeeded"] == 1
    assert document["subtasks_expired"] == 1
    assert newest["code"] == "EXPIRED"
    assert newest["is_error"] is True


def test_state_controls_reject_bad_input(service, transfer_client, transfer_data, source_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)

    with pytest.raises(KeyError, match="no task"):
        service.stall_task("not-a-task", "PERMISSION_DENIED")
    with pytest.raises(ValueError, match="fault code"):
        service.stall_task(task_id, "OK")
    with pytest.raises(ValueError, match="SOURCE, DESTINATION, BOTH"):
        service.admin_cancel(task_id, side="LEFT")
    with pytest.raises(ValueError, match="nothing to resume"):
        service.resume_task(task_id)
    with pytest.raises(ValueError, match="not paused"):
        service.admin_resume(task_id)

    service.release_tasks()
    service.wait_for_task(task_id, timeout=10)

    with pytest.raises(ValueError, match="already finished"):
        service.make_inactive(task_id)


def test_user_cancel_of_stalled_task(service, transfer_client, transfer_data, source_dir) -> None:
    task_id = start_held_task(service, transfer_client, transfer_data, source_dir)
    service.stall_task(task_id, "PERMISSION_DENIED", path="/a.txt")
    service.release_tasks()

    response = transfer_client.cancel_task(task_id)
    document = transfer_client.get_task(task_id)

    assert response["code"] == "Canceled"
    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "CANCELED"
    assert document["canceled_by_admin"] is None
