"""The local service's collection kinds, access rules and consent controls that the hook relies on."""

from __future__ import annotations

import uuid

import globus_sdk
import pytest

from globus_airflow.testing.__main__ import _collection_argument
from globus_airflow.testing.access import TRANSFER_SCOPE


def grant(service, scope: str) -> globus_sdk.OAuthClientCredentialsResponse:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )
    return auth_client.oauth2_client_credentials_tokens(requested_scopes=scope)


def data_access(collection_id: str) -> str:
    return f"{TRANSFER_SCOPE}[*https://auth.globus.org/scopes/{collection_id}/data_access]"


@pytest.mark.parametrize("kind", ["guest", "high_assurance", None])
def test_unknown_data_access_scope_rejected(local_globus, tmp_path, kind):
    if kind is None:
        collection_id = str(uuid.uuid4())
    else:
        collection_id = local_globus.add_collection("other", tmp_path / "other", kind=kind)

    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        grant(local_globus, data_access(collection_id))

    assert caught.value.http_status == 400
    assert caught.value.raw_json["error"] == "invalid_scope"
    assert collection_id in caught.value.raw_json["error_description"]
    assert local_globus.stats.token_rejections == 1


def test_refused_consent_still_grants(local_globus):
    local_globus.refuse_consent("source")
    scope = local_globus.transfer_scope()

    response = grant(local_globus, scope)
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(response["access_token"]),
        base_url=local_globus.transfer_url,
    )

    assert list(client.operation_ls(local_globus.collection_id("destination"), path="/")) == []
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.operation_ls(local_globus.collection_id("source"), path="/")
    assert caught.value.code == "ConsentRequired"
    assert local_globus.stats.token_grant_scopes == (scope,)


def test_endpoint_documents_by_kind(local_globus, tmp_path):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    local_globus.add_collection("secure", tmp_path / "secure", kind="high_assurance")
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(
            grant(local_globus, TRANSFER_SCOPE)["access_token"]
        ),
        base_url=local_globus.transfer_url,
    )

    documents = {
        name: client.get_endpoint(local_globus.collection_id(name))
        for name in ("source", "shared", "secure")
    }

    assert documents["source"]["entity_type"] == "GCSv5_mapped_collection"
    assert documents["source"]["high_assurance"] is False
    assert documents["shared"]["entity_type"] == "GCSv5_guest_collection"
    assert documents["secure"]["entity_type"] == "GCSv5_mapped_collection"
    assert documents["secure"]["high_assurance"] is True


def test_guest_task_waits_for_access_rule(local_globus, tmp_path, collections):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    (tmp_path / "shared" / "data.txt").write_text("payload\n")
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        local_globus.client_id, local_globus.client_secret, base_url=local_globus.auth_url
    )
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.ClientCredentialsAuthorizer(
            auth_client, local_globus.transfer_scope()
        ),
        base_url=local_globus.transfer_url,
    )
    data = globus_sdk.TransferData(
        source_endpoint=local_globus.collection_id("shared"),
        destination_endpoint=local_globus.collection_id("destination"),
    )
    data.add_item("/data.txt", "/data.txt")

    task_id = client.submit_transfer(data)["task_id"]
    local_globus.wait_until(
        lambda: local_globus.get_task(task_id)["faults"] >= 1, timeout=10, description="a fault"
    )
    faulted = local_globus.get_task(task_id)
    local_globus.grant_access("shared", path="/", permissions="r")
    local_globus.advance_clock(local_globus.retry_interval)
    done = local_globus.wait_for_task(task_id, timeout=10)

    assert faulted["status"] == "ACTIVE"
    assert faulted["nice_status"] == "PERMISSION_DENIED"
    assert done["status"] == "SUCCEEDED"
    assert (collections["destination"] / "data.txt").read_text() == "payload\n"


def test_guest_destination_needs_write(local_globus, tmp_path):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    local_globus.grant_access("shared", permissions="r")
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        local_globus.client_id, local_globus.client_secret, base_url=local_globus.auth_url
    )
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.ClientCredentialsAuthorizer(
            auth_client, local_globus.transfer_scope()
        ),
        base_url=local_globus.transfer_url,
    )

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.operation_mkdir(local_globus.collection_id("shared"), path="/new")

    assert caught.value.http_status == 403
    assert "'rw' permissions on /new" in caught.value.message


def test_control_errors(local_globus, tmp_path):
    with pytest.raises(ValueError, match="unknown collection kind 'shared'"):
        local_globus.add_collection("x", tmp_path / "x", kind="shared")
    with pytest.raises(ValueError, match="guest collections only"):
        local_globus.grant_access("source")
    with pytest.raises(ValueError, match="permissions must be"):
        local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
        local_globus.grant_access("shared", permissions="w")
    with pytest.raises(ValueError, match="no data_access scope"):
        local_globus.refuse_consent("shared")
    with pytest.raises(ValueError, match="already a guest collection"):
        local_globus.add_collection("shared", tmp_path / "shared")
    with pytest.raises(KeyError):
        local_globus.grant_access("nowhere")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=/data", ("a", "/data", "mapped")),
        ("a=/data:guest", ("a", "/data", "guest")),
        ("a=/data:high_assurance", ("a", "/data", "high_assurance")),
        ("a=/odd:name", ("a", "/odd:name", "mapped")),
    ],
)
def test_cli_collection_kinds(text, expected):
    name, directory, kind = _collection_argument(text)

    assert (name, str(directory), kind) == expected
