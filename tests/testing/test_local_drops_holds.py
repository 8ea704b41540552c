"""Dropped connections and held requests, the faults behind crash and resubmit tests.

The clients here have globus-sdk's own retries turned off, so each call meets
exactly one fault decision. A client that dies mid-request is a raw socket
closed by the test or a subprocess killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.transport import RetryConfig

from globus_airflow.testing import LocalGlobusService


def no_retry_client(service: LocalGlobusService) -> globus_sdk.TransferClient:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id,
        service.client_secret,
        base_url=service.auth_url,
        retry_config=RetryConfig(max_retries=0),
    )
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth_client, scopes=service.transfer_scope())
    return globus_sdk.TransferClient(
        authorizer=authorizer,
        base_url=service.transfer_url,
        retry_config=RetryConfig(max_retries=0),
    )


@pytest.fixture
def client(service: LocalGlobusService) -> globus_sdk.TransferClient:
    return no_retry_client(service)


@pytest.fixture
def one_file_transfer(service, client, source_dir: Path) -> globus_sdk.TransferData:
    """TransferData for /a.txt with its submission id already set, so a resubmit reuses it."""
    (source_dir / "a.txt").write_text("payload")
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id("source"),
        destination_endpoint=service.collection_id("destination"),
        submission_id=client.get_submission_id()["value"],
    )
    data.add_item("/a.txt", "/a.txt")
    return data


def test_drop_before_processing_leaves_no_task(service, client, one_file_transfer) -> None:
    handle = service.drop_connections("submit_transfer", count=1)

    with pytest.raises(globus_sdk.NetworkError):
        client.submit_transfer(one_file_transfer)
    tasks_after_drop = service.tasks()
    resubmitted = client.submit_transfer(one_file_transfer)

    assert handle.served == 1
    assert tasks_after_drop == []
    assert resubmitted["code"] == "Accepted"
    assert service.stats.submissions_accepted == 1


def test_drop_after_processing_keeps_one_task(service, client, one_file_transfer) -> None:
    service.drop_connections("submit_transfer", count=1, after_processing=True)

    with pytest.raises(globus_sdk.NetworkError):
        client.submit_transfer(one_file_transfer)
    tasks_after_drop = service.tasks()
    resubmitted = client.submit_transfer(one_file_transfer)

    assert len(tasks_after_drop) == 1
    assert resubmitted["code"] == "Duplicate"
    assert resubmitted["task_id"] == tasks_after_drop[0]["task_id"]
    assert len(service.tasks()) == 1
    assert service.stats.submissions_duplicate == 1


def drop_sequence(tmp_path: Path, *, seed: int) -> list[bool]:
    """Return which of 24 task_list calls lost their connection under a 50% drop fault."""
    collections = {"source": tmp_path / "source", "destination": tmp_path / "destination"}
    with LocalGlobusService(collections, seed=seed) as service:
        handle = service.drop_connections("task_list", probability=0.5)
        client = no_retry_client(service)
        dropped = []
        for _ in range(24):
            try:
                client.task_list()
            except globus_sdk.NetworkError:
                dropped.append(True)
            else:
                dropped.append(False)
        assert handle.served == sum(dropped)
    return dropped


def test_drop_probability_is_seeded(tmp_path: Path) -> None:
    first = drop_sequence(tmp_path, seed=11)
    second = drop_sequence(tmp_path, seed=11)

    assert first == second
    assert True in first
    assert False in first


def test_hold_before_processing_until_release(service, client, one_file_transfer) -> None:
    handle = service.hold_requests("submit_transfer")
    results: list[dict] = []
    submit = threading.Thread(target=lambda: results.append(client.submit_transfer(one_file_transfer).data))

    submit.start()
    handle.wait_for_held(1)
    tasks_while_held = service.tasks()
    listing_while_held = no_retry_client(service).task_list()
    handle.release()
    submit.join(timeout=10)

    assert tasks_while_held == []
    assert listing_while_held["DATA"] == []
    assert results[0]["code"] == "Accepted"
    assert handle.held == 0
    assert handle.served == 1
    assert handle.discarded == 0


def raw_submit_request(service: LocalGlobusService, client: globus_sdk.TransferClient, data: globus_sdk.TransferData) -> bytes:
    """Build the bytes of a POST /transfer request as globus-sdk would send them."""
    body = json.dumps(
        {
            "DATA_TYPE": "transfer",
            "submission_id": data["submission_id"],
            "source_endpoint": service.collection_id("source"),
            "destination_endpoint": service.collection_id("destination"),
            "DATA": [{"DATA_TYPE": "transfer_item", "source_path": "/a.txt", "destination_path": "/a.txt"}],
        }
    ).encode()
    head = (
        "POST /transfer/v0.10/transfer HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{service.port}\r\n"
        f"Authorization: Bearer {client.authorizer.access_token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def read_response(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_held_raw_request_is_processed_on_release(service, client, one_file_transfer) -> None:
    handle = service.hold_requests("submit_transfer")
    connection = socket.create_connection(("127.0.0.1", service.port), timeout=10)

    with connection:
        connection.sendall(raw_submit_request(service, client, one_file_transfer))
        handle.wait_for_held(1)
        handle.release()
        response = read_response(connection)

    assert response.startswith(b"HTTP/1.1 202")
    assert b'"code":"Accepted"' in response
    assert len(service.tasks()) == 1


def test_held_request_of_gone_client_is_not_processed(service, client, one_file_transfer) -> None:
    handle = service.hold_requests("submit_transfer")
    connection = socket.create_connection(("127.0.0.1", service.port), timeout=10)

    connection.sendall(raw_submit_request(service, client, one_file_transfer))
    handle.wait_for_held(1)
    connection.close()
    handle.wait_for_discarded(1)
    handle.release()
    tasks_after_release = service.tasks()
    accepted_after_release = service.stats.submissions_accepted
    resubmitted = client.submit_transfer(one_file_transfer)

    assert tasks_after_release == []
    assert accepted_after_release == 0
    assert handle.held == 0
    assert resubmitted["code"] == "Accepted"


SUBMITTING_CLIENT = textwrap.dedent(
    """
    import json, os, globus_sdk

    auth_client = globus_sdk.ConfidentialAppAuthClient(
        os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"], base_url=os.environ["AUTH_URL"]
    )
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth_client, scopes=os.environ["SCOPE"])
    client = globus_sdk.TransferClient(authorizer=authorizer, base_url=os.environ["TRANSFER_URL"])
    client.submit_transfer(json.loads(os.environ["TRANSFER_DOCUMENT"]))
    print("the submit returned", flush=True)
    """
)


def test_killed_client_after_processing_leaves_task(service, client, one_file_transfer) -> None:
    handle = service.hold_requests("submit_transfer", after_processing=True)
    document = {
        "DATA_TYPE": "transfer",
        "submission_id": one_file_transfer["submission_id"],
        "source_endpoint": service.collection_id("source"),
        "destination_endpoint": service.collection_id("destination"),
        "DATA": [{"DATA_TYPE": "transfer_item", "source_path": "/a.txt", "destination_path": "/a.txt"}],
    }
    environment = {
        **os.environ,
        "CLIENT_ID": service.client_id,
        "CLIENT_SECRET": service.client_secret,
        "AUTH_URL": service.auth_url,
        "TRANSFER_URL": service.transfer_url,
        "SCOPE": service.transfer_scope(),
        "TRANSFER_DOCUMENT": json.dumps(document),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SUBMITTING_CLIENT],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        handle.wait_for_held(1, timeout=60)
        tasks_while_held = service.tasks()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        handle.wait_for_discarded(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    handle.release()
    output = process.stdout.read() if process.stdout else ""
    resubmitted = client.submit_transfer(one_file_transfer)

    assert len(tasks_while_held) == 1
    assert output == ""
    assert resubmitted["code"] == "Duplicate"
    assert resubmitted["task_id"] == tasks_while_held[0]["task_id"]


def test_stop_drops_held_requests(tmp_path: Path) -> None:
    collections = {"source": tmp_path / "source", "destination": tmp_path / "destination"}
    service = LocalGlobusService(collections).start()
    client = no_retry_client(service)
    handle = service.hold_requests("task_list")
    errors: list[BaseException] = []

    def list_tasks() -> None:
        try:
            client.task_list()
        except globus_sdk.NetworkError as error:
            errors.append(error)

    lister = threading.Thread(target=list_tasks)
    lister.start()
    handle.wait_for_held(1)
    service.stop()
    lister.join(timeout=10)

    assert len(errors) == 1
    assert handle.held == 0


def test_fault_controls_reject_bad_route(service) -> None:
    with pytest.raises(ValueError, match="unknown route 'submit'"):
        service.hold_requests("submit")
    with pytest.raises(ValueError, match="unknown route 'submit'"):
        service.drop_connections("submit")
