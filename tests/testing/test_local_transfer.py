"""Transfer task submission, documents, listing, events and cancel on the local service."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import globus_sdk
import pytest
import requests

from globus_airflow.testing import LocalGlobusService
from globus_airflow.testing import transfer_api

TIME_PATTERN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def build_tree(root: Path) -> None:
    (root / "data" / "nested deeper" / "ünïcødé dir").mkdir(parents=True)
    (root / "data" / "empty").mkdir()
    (root / "data" / "top level.txt").write_text("top level\n")
    (root / "data" / "nested deeper" / "naïve café.csv").write_text("a,b\n1,2\n")
    (root / "data" / "nested deeper" / "ünïcødé dir" / "日本語 file.bin").write_bytes(os.urandom(300_000))
    (root / "data" / ".hidden").write_text("hidden\n")


def test_recursive_copy_matches_bytes(service, transfer_client, transfer_data, source_dir, destination_dir, snapshot) -> None:
    build_tree(source_dir)
    data = transfer_data(label="tree copy")
    data.add_item("/data/", "/copy of data/", recursive=True)

    result = transfer_client.submit_transfer(data)
    document = service.wait_for_task(result["task_id"])

    assert result.http_status == 202
    assert result["code"] == "Accepted"
    assert document["status"] == "SUCCEEDED"
    assert snapshot(destination_dir / "copy of data") == snapshot(source_dir / "data")
    assert document["files"] == 4
    assert document["directories"] == 4
    assert document["files_transferred"] == 4
    assert document["bytes_transferred"] == sum(p.stat().st_size for p in (source_dir / "data").rglob("*") if p.is_file())
    assert document["subtasks_total"] == 8
    assert document["subtasks_succeeded"] == 8
    assert document["subtasks_pending"] == 0
    assert document["fatal_error"] is None
    assert document["nice_status"] is None
    assert document["is_ok"] is None


def test_auto_detect_recursive_directory(service, transfer_client, transfer_data, source_dir, destination_dir, snapshot) -> None:
    build_tree(source_dir)
    data = transfer_data()
    data.add_item("/~/data", "/~/auto")

    document = service.wait_for_task(transfer_client.submit_transfer(data)["task_id"])

    assert document["status"] == "SUCCEEDED"
    assert snapshot(destination_dir / "auto") == snapshot(source_dir / "data")


def test_single_file_creates_parents(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    (source_dir / "one file.txt").write_text("only one\n")
    data = transfer_data()
    data.add_item("/one file.txt", "/a/b/c/renamed.txt", recursive=False)

    document = service.wait_for_task(transfer_client.submit_transfer(data)["task_id"])

    assert document["status"] == "SUCCEEDED"
    assert (destination_dir / "a" / "b" / "c" / "renamed.txt").read_text() == "only one\n"
    assert not list((destination_dir / "a" / "b" / "c").glob(".*globus-partial*"))


def test_recursive_flag_on_file_fails(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "plain.txt").write_text("x")
    data = transfer_data()
    data.add_item("/plain.txt", "/plain.txt", recursive=True)

    document = service.wait_for_task(transfer_client.submit_transfer(data)["task_id"])

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "NOT_A_DIRECTORY"


def test_duplicate_submission_returns_original(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    (source_dir / "once.txt").write_text("copied once\n")
    submission_id = transfer_client.get_submission_id()["value"]
    data = transfer_data(submission_id=submission_id)
    data.add_item("/once.txt", "/once.txt")

    first = transfer_client.submit_transfer(data)
    service.wait_for_task(first["task_id"])
    second = transfer_client.submit_transfer(data)

    assert first["code"] == "Accepted"
    assert second["code"] == "Duplicate"
    assert second.http_status == 200
    assert second["task_id"] == first["task_id"]
    assert len(service.tasks()) == 1
    assert service.stats.submissions_accepted == 1
    assert service.stats.submissions_duplicate == 1
    assert len(list(transfer_client.task_successful_transfers(first["task_id"]))) == 1


def test_unissued_submission_id_rejected(service, transfer_client, transfer_data, source_dir) -> None:
    data = transfer_data(submission_id="5b2d2b0c-5f4c-11ee-8c99-0242ac120002")
    data.add_item("/x", "/x")

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_transfer(data)

    assert caught.value.http_status == 400
    assert caught.value.code == "ClientError.BadRequest"
    assert service.tasks() == []


def test_submission_without_items(transfer_client, transfer_data) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_transfer(transfer_data())

    assert caught.value.http_status == 400
    assert caught.value.code == "ClientError.BadRequest.NoTransferItems"


def test_submission_to_unknown_collection(service, transfer_client) -> None:
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id("source"),
        destination_endpoint="00000000-0000-0000-0000-000000000000",
    )
    data.add_item("/x", "/x")

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_transfer(data)

    assert caught.value.http_status == 404
    assert caught.value.code == "EndpointNotFound"


@pytest.mark.parametrize(
    "options",
    [
        {"label": "x" * 129},
        {"sync_level": 7},
        {"deadline": "not a date"},
        {"deadline": "2001-01-01T00:00:00+00:00"},
        {"verify_checksum": "yes"},
    ],
)
def test_invalid_submission_options(transfer_client, transfer_data, options) -> None:
    data = transfer_data(additional_fields=options)
    data.add_item("/x", "/x")

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_transfer(data)

    assert caught.value.http_status == 400
    assert caught.value.code == "ClientError.BadRequest"


def test_unsupported_checksum_algorithm(transfer_client, transfer_data) -> None:
    data = transfer_data()
    data.add_item("/x", "/x", checksum_algorithm="CRC32C")

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_transfer(data)

    assert caught.value.http_status == 400


def test_task_document_fields(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    data = transfer_data(
        label="fields",
        sync_level="size",
        verify_checksum=True,
        preserve_timestamp=True,
        encrypt_data=True,
        skip_source_errors=True,
        fail_on_quota_errors=True,
        source_local_user="alice",
        destination_local_user="bob",
        notify_on_succeeded=False,
    )
    data.add_item("/f.txt", "/f.txt")
    data.add_filter_rule("*.tmp", method="exclude", type="file")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_for_task(task_id)

    document = transfer_client.get_task(task_id)

    assert document["DATA_TYPE"] == "task"
    assert document["type"] == "TRANSFER"
    assert document["command"] == "API 0.10"
    assert document["owner_id"] == service.client_id
    assert document["label"] == "fields"
    assert document["source_endpoint_id"] == service.collection_id("source")
    assert document["destination_endpoint_id"] == service.collection_id("destination")
    assert document["source_endpoint_display_name"] == "source"
    assert document["destination_endpoint_display_name"] == "destination"
    assert document["sync_level"] == 1
    assert document["verify_checksum"] is True
    assert document["preserve_timestamp"] is True
    assert document["encrypt_data"] is True
    assert document["skip_source_errors"] is True
    assert document["fail_on_quota_errors"] is True
    assert document["delete_destination_extra"] is False
    assert document["source_local_user"] == "alice"
    assert document["destination_local_user"] == "bob"
    assert document["notify_on_succeeded"] is False
    assert document["filter_rules"] == [{"DATA_TYPE": "filter_rule", "method": "exclude", "name": "*.tmp", "type": "file"}]
    assert document["canceled_by_admin"] is None
    assert document["history_deleted"] is False
    assert TIME_PATTERN.match(document["request_time"])
    assert TIME_PATTERN.match(document["completion_time"])
    requested = datetime.datetime.fromisoformat(document["request_time"])
    deadline = datetime.datetime.fromisoformat(document["deadline"])
    assert deadline - requested == datetime.timedelta(hours=24)


def test_explicit_deadline_echoed(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    deadline = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).replace(microsecond=0)
    data = transfer_data(deadline=deadline.isoformat())
    data.add_item("/f.txt", "/f.txt")

    task_id = transfer_client.submit_transfer(data)["task_id"]

    assert datetime.datetime.fromisoformat(service.get_task(task_id)["deadline"]) == deadline


def test_unknown_and_foreign_tasks(service, transfer_client, client_factory, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    other_id, other_secret = service.add_client()
    other = client_factory(client_id=other_id, client_secret=other_secret)

    with pytest.raises(globus_sdk.TransferAPIError) as unknown:
        transfer_client.get_task("00000000-0000-0000-0000-000000000001")
    with pytest.raises(globus_sdk.TransferAPIError) as foreign:
        other.get_task(task_id)
    with pytest.raises(globus_sdk.TransferAPIError) as foreign_cancel:
        other.cancel_task(task_id)

    assert unknown.value.http_status == 404
    assert unknown.value.code == "ClientError.NotFound"
    assert foreign.value.http_status == 403
    assert foreign.value.code == "PermissionDenied"
    assert foreign_cancel.value.http_status == 403
    assert list(other.task_list()) == []


def test_task_list_filters_and_order(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    task_ids = []
    for label in ("alpha one", "beta two", "alpha three"):
        data = transfer_data(label=label)
        data.add_item("/f.txt", f"/{label}.txt")
        task_ids.append(transfer_client.submit_transfer(data)["task_id"])
    delete = globus_sdk.DeleteData(endpoint=service.collection_id("destination"), label="cleanup", ignore_missing=True)
    delete.add_item("/nothing")
    delete_id = transfer_client.submit_delete(delete)["task_id"]
    for task_id in [*task_ids, delete_id]:
        service.wait_for_task(task_id)

    default_order = [task["task_id"] for task in transfer_client.task_list(limit=100)]
    by_substring = [task["label"] for task in transfer_client.task_list(filter="label:~ALPHA", orderby="request_time ASC")]
    by_exact = [task["label"] for task in transfer_client.task_list(filter="label:=beta two")]
    by_type = [task["task_id"] for task in transfer_client.task_list(filter={"type": "DELETE"})]
    by_id = {task["task_id"] for task in transfer_client.task_list(filter={"task_id": task_ids[:2], "status": "SUCCEEDED"})}
    page = transfer_client.task_list(limit=2, offset=1)

    assert default_order == [delete_id, *reversed(task_ids)]
    assert by_substring == ["alpha one", "alpha three"]
    assert by_exact == ["beta two"]
    assert by_type == [delete_id]
    assert by_id == set(task_ids[:2])
    assert page["total"] == 4
    assert page["length"] == 2
    assert page["limit"] == 2
    assert page["offset"] == 1
    assert [task["task_id"] for task in page] == default_order[1:3]
    assert [task["status"] for task in transfer_client.task_list(filter="status:ACTIVE,INACTIVE")] == []


def test_task_list_rejects_unknown_filter(transfer_client) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.task_list(filter="colour:blue")

    assert caught.value.http_status == 400


def test_event_list_and_error_filter(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_for_task(task_id)

    events = list(transfer_client.task_event_list(task_id))
    errors = list(transfer_client.task_event_list(task_id, query_params={"filter": "is_error:1"}))

    assert [event["code"] for event in events] == ["SUCCEEDED", "PROGRESS", "STARTED"]
    assert all(event["DATA_TYPE"] == "event" for event in events)
    assert all(TIME_PATTERN.match(event["time"]) for event in events)
    assert '"bytes_transferred": 1' in events[1]["details"]
    assert errors == []


def test_successful_transfers_paging(service, transfer_client, transfer_data, source_dir, monkeypatch) -> None:
    monkeypatch.setattr(transfer_api, "SUCCESSFUL_TRANSFERS_PAGE_SIZE", 2)
    for index in range(5):
        (source_dir / "many" / f"{index}.txt").parent.mkdir(exist_ok=True)
        (source_dir / "many" / f"{index}.txt").write_text(str(index))
    data = transfer_data()
    data.add_item("/many", "/many", recursive=True)
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_for_task(task_id)

    first = transfer_client.task_successful_transfers(task_id)
    pairs = [(item["source_path"], item["destination_path"]) for page in transfer_client.paginated.task_successful_transfers(task_id) for item in page]

    assert first["marker"] == 0
    assert first["next_marker"] == 2
    assert len(first["DATA"]) == 2
    assert pairs == [(f"/many/{index}.txt", f"/many/{index}.txt") for index in range(5)]


def test_cancel_active_task(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    (source_dir / "f.txt").write_text("never copied")
    service.hold_tasks()
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_until(lambda: service.get_task(task_id)["nice_status"] == "OK", timeout=10, description="task started")

    result = transfer_client.cancel_task(task_id)
    document = transfer_client.get_task(task_id)
    service.release_tasks()

    assert result["code"] == "Canceled"
    assert result["DATA_TYPE"] == "result"
    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "CANCELED"
    assert document["nice_status"] is None
    assert document["subtasks_pending"] == 0
    assert transfer_client.task_event_list(task_id)["DATA"][0]["code"] == "CANCELED"
    assert service.stats.requests["POST /transfer/v0.10/task/{task_id}/cancel"] == 1
    assert not (destination_dir / "f.txt").exists()


def test_cancel_finished_task(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_for_task(task_id)

    result = transfer_client.cancel_task(task_id)

    assert result["code"] == "TaskComplete"
    assert service.get_task(task_id)["status"] == "SUCCEEDED"


def test_activity_page(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    data = transfer_data(label="<page label>")
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]
    service.wait_for_task(task_id)

    page = requests.get(service.web_app_url + f"activity/{task_id}", timeout=10)
    index = requests.get(service.web_app_url, timeout=10)
    missing = requests.get(service.web_app_url + "activity/nope", timeout=10)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SUCCEEDED" in page.text
    assert "&lt;page label&gt;" in page.text
    assert task_id in index.text
    assert missing.status_code == 404
