"""Retryable faults: a missing source, path escapes in task items, deadlines, skip_source_errors.

Retry timers and deadlines run on the service clock, which the tests move with
``advance_clock`` instead of sleeping.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from globus_airflow.testing import LocalGlobusService


def wait_for_faults(service: LocalGlobusService, task_id: str, count: int) -> dict:
    service.wait_until(
        lambda: service.get_task(task_id)["faults"] >= count,
        timeout=10,
        description=f"task {task_id} has {count} faults",
    )
    return service.get_task(task_id)


def test_missing_source_retries_until_it_appears(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    data = transfer_data()
    data.add_item("/later.txt", "/later.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]

    first = wait_for_faults(service, task_id, 1)
    service.advance_clock(service.retry_interval)
    second = wait_for_faults(service, task_id, 2)
    errors = list(transfer_client.task_event_list(task_id, query_params={"filter": "is_error:1"}))
    (source_dir / "later.txt").write_text("arrived late")
    service.advance_clock(service.retry_interval)
    done = service.wait_for_task(task_id, timeout=10)

    assert first["status"] == "ACTIVE"
    assert first["nice_status"] == "FILE_NOT_FOUND"
    assert first["is_ok"] is False
    assert first["subtasks_retrying"] == 1
    assert second["status"] == "ACTIVE"
    assert second["faults"] == 2
    assert [event["code"] for event in errors] == ["FILE_NOT_FOUND", "FILE_NOT_FOUND"]
    assert all(event["is_error"] for event in errors)
    assert json.loads(errors[0]["details"])["path"] == "/later.txt"
    assert done["status"] == "SUCCEEDED"
    assert done["faults"] == 2
    assert (destination_dir / "later.txt").read_text() == "arrived late"


def test_missing_source_expires_at_deadline(service, transfer_client, transfer_data) -> None:
    data = transfer_data()
    data.add_item("/never.txt", "/never.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    wait_for_faults(service, task_id, 1)

    service.advance_clock(25 * 3600)
    document = service.wait_for_task(task_id, timeout=10)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "EXPIRED"
    assert document["subtasks_expired"] == 1
    assert document["nice_status"] is None


def test_missing_source_can_be_canceled(service, transfer_client, transfer_data) -> None:
    data = transfer_data()
    data.add_item("/never.txt", "/never.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    wait_for_faults(service, task_id, 1)

    transfer_client.cancel_task(task_id)
    document = service.wait_for_task(task_id, timeout=10)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "CANCELED"


def test_skip_source_errors_skips_missing(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    (source_dir / "present.txt").write_text("here")
    data = transfer_data(skip_source_errors=True)
    data.add_item("/absent.txt", "/absent.txt")
    data.add_item("/present.txt", "/present.txt")

    document = service.wait_for_task(transfer_client.submit_transfer(data)["task_id"], timeout=10)

    assert document["status"] == "SUCCEEDED"
    assert document["subtasks_skipped_errors"] == 1
    assert document["faults"] == 0
    assert (destination_dir / "present.txt").read_text() == "here"
    assert not (destination_dir / "absent.txt").exists()


def assert_permission_denied(service, transfer_client, task_id: str) -> dict:
    document = wait_for_faults(service, task_id, 1)
    transfer_client.cancel_task(task_id)
    assert document["status"] == "ACTIVE"
    assert document["nice_status"] == "PERMISSION_DENIED"
    errors = list(transfer_client.task_event_list(task_id, query_params={"filter": "is_error:1"}))
    assert "PERMISSION_DENIED" in [event["code"] for event in errors]
    return document


def test_item_dotdot_source_escape(service, transfer_client, transfer_data, tmp_path: Path, destination_dir) -> None:
    (tmp_path / "secret.txt").write_text("outside the collection")
    data = transfer_data()
    data.add_item("/../secret.txt", "/stolen.txt")

    assert_permission_denied(service, transfer_client, transfer_client.submit_transfer(data)["task_id"])

    assert not (destination_dir / "stolen.txt").exists()


def test_item_dotdot_destination_escape(service, transfer_client, transfer_data, source_dir, tmp_path: Path) -> None:
    (source_dir / "f.txt").write_text("payload")
    data = transfer_data()
    data.add_item("/f.txt", "/sub/../../escaped.txt")

    assert_permission_denied(service, transfer_client, transfer_client.submit_transfer(data)["task_id"])

    assert not (tmp_path / "escaped.txt").exists()


def test_item_symlink_source_escape(service, transfer_client, transfer_data, source_dir, destination_dir, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the collection")
    os.symlink(outside, source_dir / "door")
    data = transfer_data()
    data.add_item("/door/secret.txt", "/stolen.txt")

    assert_permission_denied(service, transfer_client, transfer_client.submit_transfer(data)["task_id"])

    assert not (destination_dir / "stolen.txt").exists()


def test_item_symlink_destination_escape(service, transfer_client, transfer_data, source_dir, destination_dir, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (source_dir / "tree").mkdir()
    (source_dir / "tree" / "f.txt").write_text("payload")
    (destination_dir / "tree").mkdir()
    os.symlink(outside, destination_dir / "tree" / "trap")
    (source_dir / "tree" / "trap").mkdir()
    (source_dir / "tree" / "trap" / "g.txt").write_text("payload")
    data = transfer_data()
    data.add_item("/tree", "/tree", recursive=True)

    assert_permission_denied(service, transfer_client, transfer_client.submit_transfer(data)["task_id"])

    assert list(outside.iterdir()) == []
