"""Injected errors and latency, seen through globus-sdk with its own retries turned off."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.transport import RetryConfig

from globus_airflow.testing import LocalGlobusService


def no_retry_auth_client(service: LocalGlobusService) -> globus_sdk.ConfidentialAppAuthClient:
    return globus_sdk.ConfidentialAppAuthClient(
        service.client_id,
        service.client_secret,
        base_url=service.auth_url,
        retry_config=RetryConfig(max_retries=0),
    )


def no_retry_client(service: LocalGlobusService) -> globus_sdk.TransferClient:
    """A TransferClient whose failed requests raise at once, so each request meets one fault decision."""
    authorizer = globus_sdk.ClientCredentialsAuthorizer(no_retry_auth_client(service), scopes=service.transfer_scope())
    return globus_sdk.TransferClient(
        authorizer=authorizer,
        base_url=service.transfer_url,
        retry_config=RetryConfig(max_retries=0),
    )


@pytest.fixture
def client(service: LocalGlobusService) -> globus_sdk.TransferClient:
    return no_retry_client(service)


def failures_of(client: globus_sdk.TransferClient, calls: int) -> list[bool]:
    """Call task_list ``calls`` times; return which calls failed."""
    failed = []
    for _ in range(calls):
        try:
            client.task_list()
        except (globus_sdk.TransferAPIError, globus_sdk.NetworkError):
            failed.append(True)
        else:
            failed.append(False)
    return failed


def test_error_count_then_success(service, client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="globus_airflow.testing.fault_middleware")
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id("source"),
        destination_endpoint=service.collection_id("destination"),
    )
    data.add_item("/", "/", recursive=True)
    task_id = client.submit_transfer(data)["task_id"]
    handle = service.inject_error("get_task", status=503, retry_after=3, count=2)

    errors = []
    for _ in range(2):
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            client.get_task(task_id)
        errors.append(caught.value)
    document = client.get_task(task_id)

    assert [error.http_status for error in errors] == [503, 503]
    assert [error.code for error in errors] == ["ServiceUnavailable", "ServiceUnavailable"]
    assert errors[0].headers["Retry-After"] == "3"
    assert errors[0].raw_json["resource"] == f"/v0.10/task/{task_id}"
    assert document["task_id"] == task_id
    assert handle.served == 2
    assert handle.active is False
    assert service.stats.requests[f"GET /transfer/v0.10/task/{task_id}"] == 2
    fault_lines = [record.getMessage() for record in caplog.records if "injected HTTP 503" in record.getMessage()]
    assert len(fault_lines) == 2
    assert "route get_task" in fault_lines[0]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "ClientError.RequestLimitExceeded"),
        (500, "ServerError.InternalError"),
        (502, "ExternalError.Unavailable"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
        (418, "ClientError"),
    ],
)
def test_error_default_codes(service, client, status: int, code: str) -> None:
    service.inject_error("task_list", status=status, count=1)

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.task_list()

    assert caught.value.http_status == status
    assert caught.value.code == code
    assert "Retry-After" not in caught.value.headers


def test_error_custom_code_and_message(service, client) -> None:
    collection_id = service.collection_id("source")
    service.inject_error(
        "ls",
        status=502,
        code="ExternalError.DirListingFailed.GCDisconnected",
        message="The collection is not connected",
    )

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.operation_ls(collection_id, path="/")

    assert caught.value.code == "ExternalError.DirListingFailed.GCDisconnected"
    assert caught.value.message == "The collection is not connected"
    assert caught.value.raw_json["resource"] == f"/v0.10/operation/endpoint/{collection_id}/ls"


def test_transfer_route_matches_every_transfer_request(service, client) -> None:
    handle = service.inject_error("transfer", status=502, count=3)

    calls = [
        client.get_submission_id,
        client.task_list,
        lambda: client.get_endpoint(service.collection_id("source")),
    ]
    codes = []
    for call in calls:
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            call()
        codes.append(caught.value.code)
    tokens = no_retry_auth_client(service).oauth2_client_credentials_tokens(requested_scopes=service.transfer_scope())

    assert codes == ["ExternalError.Unavailable"] * 3
    assert handle.served == 3
    assert tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
    assert client.task_list()["DATA"] == []


def test_token_error_has_oauth_body(service) -> None:
    auth_client = no_retry_auth_client(service)
    handle = service.inject_error("token", status=503, message="maintenance", count=1)

    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        auth_client.oauth2_client_credentials_tokens(requested_scopes=service.transfer_scope())
    tokens = auth_client.oauth2_client_credentials_tokens(requested_scopes=service.transfer_scope())

    assert caught.value.http_status == 503
    assert caught.value.raw_json == {"error": "temporarily_unavailable", "error_description": "maintenance"}
    assert tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
    assert handle.served == 1


def error_sequence(tmp_path: Path, *, seed: int) -> list[bool]:
    """Return which of 24 task_list calls failed under a 50% error fault on a new service."""
    collections = {"source": tmp_path / "source", "destination": tmp_path / "destination"}
    with LocalGlobusService(collections, seed=seed) as service:
        handle = service.inject_error("task_list", status=503, probability=0.5)
        failed = failures_of(no_retry_client(service), 24)
        assert handle.served == sum(failed)
    return failed


def test_error_probability_is_seeded(tmp_path: Path) -> None:
    first = error_sequence(tmp_path, seed=7)
    second = error_sequence(tmp_path, seed=7)
    other_seed = error_sequence(tmp_path, seed=8)

    assert first == second
    assert True in first
    assert False in first
    assert other_seed != first


def test_probability_with_count_stops_after_count(tmp_path: Path) -> None:
    collections = {"source": tmp_path / "source", "destination": tmp_path / "destination"}
    with LocalGlobusService(collections, seed=3) as service:
        handle = service.inject_error("task_list", status=503, probability=0.5, count=2)
        failed = failures_of(no_retry_client(service), 30)

    assert sum(failed) == 2
    assert handle.served == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"route": "tasks", "status": 503}, "unknown route 'tasks'"),
        ({"route": "get_task", "status": 200}, "status must be an HTTP error status"),
        ({"route": "get_task", "status": 503, "count": 0}, "count must be a positive number"),
        ({"route": "get_task", "status": 503, "probability": 1.5}, "probability must be between 0 and 1"),
        ({"route": "get_task", "status": 503, "retry_after": -1}, "retry_after must be a non-negative"),
    ],
)
def test_inject_error_rejects_bad_input(service, arguments: dict, message: str) -> None:
    route = arguments.pop("route")

    with pytest.raises(ValueError, match=message):
        service.inject_error(route, **arguments)


def test_latency_does_not_block_other_routes(service, client) -> None:
    handle = service.add_latency("get_endpoint", 120)
    results: list[str] = []
    slow_call = threading.Thread(
        target=lambda: results.append(client.get_endpoint(service.collection_id("source"))["display_name"])
    )

    slow_call.start()
    handle.wait_for_served(1)
    listing = client.task_list()
    submission_id = client.get_submission_id()["value"]
    delayed_meanwhile = slow_call.is_alive()
    handle.remove()
    slow_call.join(timeout=10)

    assert listing["DATA"] == []
    assert submission_id
    assert delayed_meanwhile is True
    assert results == ["source"]


def test_latency_count_limits_delays(service, client) -> None:
    handle = service.add_latency("task_list", 0.01, count=1)

    client.task_list()
    client.task_list()

    assert handle.served == 1
    assert handle.active is False


def test_latency_rejects_bad_seconds(service) -> None:
    with pytest.raises(ValueError, match="seconds must be a positive number"):
        service.add_latency("get_task", 0)


def test_secret_values_lists_secrets_and_tokens(service, transfer_client) -> None:
    transfer_client.task_list()
    other_id, other_secret = service.add_client()
    token = transfer_client.authorizer.access_token

    secrets = service.secret_values()

    assert service.client_secret in secrets
    assert other_secret in secrets
    assert token in secrets
    assert other_id not in secrets


def test_transient_errors_split_502_and_503(service, client) -> None:
    handles = service.inject_transient_errors(1.0, route="task_list")

    statuses = []
    for _ in range(20):
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            client.task_list()
        statuses.append(caught.value.http_status)

    assert set(statuses) == {502, 503}
    assert handles[0].served == statuses.count(502)
    assert handles[1].served == statuses.count(503)


def test_first_error_ends_the_request(service, client) -> None:
    first = service.inject_error("task_list", status=503)
    second = service.inject_error("transfer", status=502)

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.task_list()

    assert caught.value.http_status == 503
    assert first.served == 1
    assert second.served == 0
