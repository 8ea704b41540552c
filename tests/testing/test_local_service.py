"""The LocalGlobusService Python API: lifecycle, loopback check, ids, connection, controls."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import globus_sdk
import pytest

from globus_airflow.testing import COLLECTION_NAMESPACE, LocalGlobusService, collection_id_for

from tests.testing.conftest import make_transfer_client


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_non_loopback_host_rejected(host: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalGlobusService(collections={"source": tmp_path}, host=host)


def test_localhost_binds_loopback(tmp_path: Path) -> None:
    with LocalGlobusService(collections={"source": tmp_path}, host="localhost") as service:
        assert service.auth_url.startswith("http://127.0.0.1:")


def test_urls_and_credentials(service: LocalGlobusService) -> None:
    base = f"http://127.0.0.1:{service.port}"

    assert service.auth_url == base + "/auth/"
    assert service.transfer_url == base + "/transfer/"
    assert service.web_app_url == base + "/app/"
    assert uuid.UUID(service.client_id)
    assert len(service.client_secret) >= 32


def test_secrets_differ_per_instance(tmp_path: Path) -> None:
    first = LocalGlobusService(collections={"source": tmp_path})
    second = LocalGlobusService(collections={"source": tmp_path})

    assert first.client_secret != second.client_secret


def test_collection_ids_are_deterministic(service: LocalGlobusService) -> None:
    assert service.collection_id("source") == str(uuid.uuid5(COLLECTION_NAMESPACE, "source"))
    assert service.collection_id("source") == collection_id_for("source")
    assert service.collection_id("source") != service.collection_id("destination")
    with pytest.raises(KeyError, match="source"):
        service.collection_id("unknown")


def test_add_collection_after_start(service: LocalGlobusService, tmp_path: Path) -> None:
    late_directory = tmp_path / "late" / "created"

    collection_id = service.add_collection("late", late_directory)
    (late_directory / "x.txt").write_text("x")

    assert collection_id == collection_id_for("late")
    # A client built now requests the new collection's data_access consent too.
    client = make_transfer_client(service)
    assert [entry["name"] for entry in client.operation_ls(collection_id)] == ["x.txt"]
    assert service.add_collection("late", late_directory) == collection_id
    with pytest.raises(ValueError, match="already bound"):
        service.add_collection("late", tmp_path)


def test_connection_json(service: LocalGlobusService) -> None:
    connection = json.loads(service.connection_json())

    assert connection == {
        "conn_type": "globus",
        "login": service.client_id,
        "password": service.client_secret,
        "extra": {
            "auth_base_url": service.auth_url,
            "transfer_base_url": service.transfer_url,
            "web_app_url": service.web_app_url,
        },
    }
    assert service.connection_extra() == connection["extra"]


def test_fixed_credentials(tmp_path: Path) -> None:
    with LocalGlobusService(collections={"source": tmp_path}, client_id="my-app", client_secret="s3cret") as service:
        client = make_transfer_client(service)

        assert service.client_id == "my-app"
        assert service.client_secret == "s3cret"
        assert client.get_endpoint(service.collection_id("source"))["display_name"] == "source"


def test_wait_for_task_timeout_names_task(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    service.hold_tasks()
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")
    task_id = transfer_client.submit_transfer(data)["task_id"]

    with pytest.raises(TimeoutError) as caught:
        service.wait_for_task(task_id, timeout=0.2)
    service.release_tasks()

    assert task_id in str(caught.value)
    assert "ACTIVE" in str(caught.value)
    assert service.wait_for_task(task_id, statuses="SUCCEEDED", timeout=10)["status"] == "SUCCEEDED"
    with pytest.raises(KeyError):
        service.wait_for_task("no-such-task")
    with pytest.raises(KeyError):
        service.get_task("no-such-task")


def test_tasks_lists_all_clients(service, transfer_client, transfer_data, source_dir) -> None:
    (source_dir / "f.txt").write_text("f")
    other_id, other_secret = service.add_client()
    other = make_transfer_client(service, client_id=other_id, client_secret=other_secret)
    ids = []
    for client in (transfer_client, other):
        data = transfer_data()
        data.add_item("/f.txt", "/f.txt")
        ids.append(client.submit_transfer(data)["task_id"])

    assert [task["task_id"] for task in service.tasks()] == ids
    assert [task["owner_id"] for task in service.tasks()] == [service.client_id, other_id]


def test_stats_count_routes(service, transfer_client) -> None:
    transfer_client.task_list()
    transfer_client.task_list()
    with pytest.raises(globus_sdk.TransferAPIError):
        transfer_client.get_task("missing")

    requests_by_route = service.stats.requests

    assert requests_by_route["GET /transfer/v0.10/task_list"] == 2
    assert requests_by_route["GET /transfer/v0.10/task/{task_id}"] == 1
    assert requests_by_route["POST /auth/v2/oauth2/token"] == 1


def test_request_hook_answers_instead(service, transfer_client) -> None:
    def fail_task_list(method: str, path: str):
        if method == "GET" and path.endswith("/task_list"):
            return 400, {"code": "ClientError.BadRequest", "message": "injected", "request_id": "x", "resource": "/task_list"}
        return None

    remove = service.add_request_hook(fail_task_list)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.task_list()
    remove()

    assert caught.value.code == "ClientError.BadRequest"
    assert caught.value.message == "injected"
    assert transfer_client.task_list()["total"] == 0


def test_unknown_transfer_route(service, transfer_client) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.get("/v0.10/no_such_route")

    assert caught.value.http_status == 404
    assert caught.value.code == "ClientError.NotFound"


def test_stop_closes_port_and_threads(tmp_path: Path) -> None:
    service = LocalGlobusService(collections={"source": tmp_path})
    with pytest.raises(RuntimeError, match="not started"):
        _ = service.auth_url
    service.start()
    port = service.port
    threads_before = {thread.name for thread in threading.enumerate()}

    service.stop()
    service.stop()

    assert f"local-globus-{port}" in threads_before
    assert f"local-globus-{port}" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    with pytest.raises(RuntimeError, match="restarted"):
        service.start()


def test_stop_interrupts_running_copy(source_dir: Path, destination_dir: Path) -> None:
    (source_dir / "big.bin").write_bytes(b"x" * 1_000_000)
    service = LocalGlobusService(
        collections={"source": source_dir, "destination": destination_dir}, bandwidth_limit=50_000
    ).start()
    client = make_transfer_client(service)
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id("source"), destination_endpoint=service.collection_id("destination")
    )
    data.add_item("/big.bin", "/big.bin")
    task_id = client.submit_transfer(data)["task_id"]
    service.wait_until(lambda: service.get_task(task_id)["bytes_transferred"] > 0, timeout=10, description="copy started")

    service.stop()

    task_threads = [thread for thread in threading.enumerate() if thread.name.startswith(f"globus-task-{task_id[:8]}")]
    assert task_threads == []
    assert not (destination_dir / "big.bin").exists()
    assert list(destination_dir.iterdir()) == []


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bandwidth_limit"):
        LocalGlobusService(collections={"source": tmp_path}, bandwidth_limit=0)
    with pytest.raises(ValueError, match="token_lifetime"):
        LocalGlobusService(collections={"source": tmp_path}, token_lifetime=0)
    with pytest.raises(ValueError, match="collection name"):
        LocalGlobusService(collections={"": tmp_path})


def test_wait_until_wakes_on_requests(service, transfer_client) -> None:
    route = "GET /transfer/v0.10/task_list"
    caller = threading.Thread(target=transfer_client.task_list)

    caller.start()
    service.wait_until(lambda: service.stats.requests.get(route) == 1, timeout=10, description="task_list request counted")
    caller.join(timeout=10)

    assert service.stats.requests[route] == 1
