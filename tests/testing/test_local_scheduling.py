"""Hold and release, the three-active-tasks limit per identity, and the bandwidth limit."""

from __future__ import annotations

import os

import globus_sdk

from globus_airflow.testing import LocalGlobusService

from tests.testing.conftest import make_transfer_client


def submit_file_copies(service, transfer_client, transfer_data, source_dir, count: int) -> list[str]:
    task_ids = []
    for index in range(count):
        (source_dir / f"{index}.txt").write_text(str(index))
        data = transfer_data(label=f"copy {index}")
        data.add_item(f"/{index}.txt", f"/{index}.txt")
        task_ids.append(transfer_client.submit_transfer(data)["task_id"])
    return task_ids


def nice_statuses(service: LocalGlobusService, task_ids: list[str]) -> list[str | None]:
    return [service.get_task(task_id)["nice_status"] for task_id in task_ids]


def test_held_task_stays_active(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    service.hold_tasks()
    [task_id] = submit_file_copies(service, transfer_client, transfer_data, source_dir, 1)
    service.wait_until(lambda: service.get_task(task_id)["nice_status"] == "OK", timeout=10, description="task started")

    held = transfer_client.get_task(task_id)
    copied_while_held = (destination_dir / "0.txt").exists()
    service.release_tasks()
    done = service.wait_for_task(task_id, timeout=10)

    assert held["status"] == "ACTIVE"
    assert held["is_ok"] is True
    assert held["bytes_transferred"] == 0
    assert not copied_while_held
    assert done["status"] == "SUCCEEDED"
    assert (destination_dir / "0.txt").read_text() == "0"


def test_fourth_task_is_queued(service, transfer_client, transfer_data, source_dir) -> None:
    service.hold_tasks()
    task_ids = submit_file_copies(service, transfer_client, transfer_data, source_dir, 4)
    expected = ["OK", "OK", "OK", "Queued"]
    service.wait_until(lambda: nice_statuses(service, task_ids) == expected, timeout=10, description="three started, one queued")

    queued = transfer_client.get_task(task_ids[3])
    service.release_tasks()
    finished = [service.wait_for_task(task_id, timeout=10)["status"] for task_id in task_ids]

    assert queued["status"] == "ACTIVE"
    assert queued["nice_status"] == "Queued"
    assert queued["nice_status_short_description"] == "Queued"
    assert queued["is_ok"] is True
    assert finished == ["SUCCEEDED"] * 4


def test_queued_task_starts_when_slot_frees(service, transfer_client, transfer_data, source_dir) -> None:
    service.hold_tasks()
    task_ids = submit_file_copies(service, transfer_client, transfer_data, source_dir, 5)
    service.wait_until(
        lambda: nice_statuses(service, task_ids) == ["OK", "OK", "OK", "Queued", "Queued"],
        timeout=10,
        description="three started, two queued",
    )

    transfer_client.cancel_task(task_ids[0])
    service.wait_until(
        lambda: nice_statuses(service, task_ids) == [None, "OK", "OK", "OK", "Queued"],
        timeout=10,
        description="the oldest queued task took the freed slot",
    )
    service.release_tasks()

    assert [service.wait_for_task(task_id, timeout=10)["status"] for task_id in task_ids[1:]] == ["SUCCEEDED"] * 4


def test_queue_limit_is_per_identity(service, transfer_client, transfer_data, source_dir) -> None:
    service.hold_tasks()
    task_ids = submit_file_copies(service, transfer_client, transfer_data, source_dir, 3)
    other_id, other_secret = service.add_client()
    other_client = make_transfer_client(service, client_id=other_id, client_secret=other_secret)
    data = transfer_data()
    data.add_item("/0.txt", "/other.txt")
    other_task = other_client.submit_transfer(data)["task_id"]

    service.wait_until(
        lambda: nice_statuses(service, [*task_ids, other_task]) == ["OK"] * 4,
        timeout=10,
        description="each identity has its own three slots",
    )
    service.release_tasks()

    assert service.wait_for_task(other_task, timeout=10)["owner_id"] == other_id


def test_bandwidth_limit_shows_progress(source_dir, destination_dir) -> None:
    payload = os.urandom(150_000)
    (source_dir / "slow.bin").write_bytes(payload)
    with LocalGlobusService(
        collections={"source": source_dir, "destination": destination_dir}, bandwidth_limit=100_000
    ) as service:
        client = make_transfer_client(service)
        data = globus_sdk.TransferData(
            source_endpoint=service.collection_id("source"), destination_endpoint=service.collection_id("destination")
        )
        data.add_item("/slow.bin", "/slow.bin")
        task_id = client.submit_transfer(data)["task_id"]

        observed: list[dict] = []

        def partly_transferred() -> bool:
            # Runs under the service lock, so the document is one consistent state.
            document = service.get_task(task_id)
            if 0 < document["bytes_transferred"] < len(payload):
                observed.append(document)
                return True
            return False

        service.wait_until(partly_transferred, timeout=30, description="part of the file transferred")
        partial = observed[-1]
        done = service.wait_for_task(task_id, timeout=30)

    assert partial["status"] == "ACTIVE"
    assert 0 < partial["bytes_transferred"] < len(payload)
    assert done["status"] == "SUCCEEDED"
    assert done["bytes_transferred"] == len(payload)
    assert (destination_dir / "slow.bin").read_bytes() == payload
