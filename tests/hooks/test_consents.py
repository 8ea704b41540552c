"""data_access consents against the local Globus service, through the hook and real globus-sdk."""

from __future__ import annotations

import globus_sdk
import pytest

from airflow.providers.common.compat.sdk import AirflowFailException
from globus_airflow.exceptions import GlobusConnectionConfigError, GlobusConsentError
from globus_airflow.hooks.consents import TRANSFER_SCOPE, transfer_scope
from tests.hooks.conftest import ENDPOINT_ROUTE, SUBMIT_ROUTE, copy_file


def test_prepared_transfer_grants_consent_once(
    local_globus, hook_factory, source_file, collections
):
    hook = hook_factory()
    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )

    hook.prepare_collections([source, destination, None, source.upper()])
    task = local_globus.wait_for_task(copy_file(hook, local_globus))

    assert task["status"] == "SUCCEEDED"
    assert (collections["destination"] / "data.txt").read_text() == "payload\n"
    stats = local_globus.stats
    assert stats.token_grant_scopes == (TRANSFER_SCOPE, transfer_scope([source, destination]))
    assert stats.requests[ENDPOINT_ROUTE] == 2
    assert stats.requests[SUBMIT_ROUTE] == 1


def test_declared_collections_need_one_grant(local_globus, hook_factory, source_file):
    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )
    hook = hook_factory(data_access_collections=f"{source}, {destination}")

    hook.prepare_collections([source, destination])
    task = local_globus.wait_for_task(copy_file(hook, local_globus))

    assert task["status"] == "SUCCEEDED"
    stats = local_globus.stats
    assert stats.token_grant_scopes == (transfer_scope([source, destination]),)
    assert ENDPOINT_ROUTE not in stats.requests
    assert stats.requests[SUBMIT_ROUTE] == 1


def test_consent_required_gets_new_token_once(local_globus, hook_factory, source_file):
    hook = hook_factory()
    hook.transfer_client.task_list(limit=1)

    task = local_globus.wait_for_task(copy_file(hook, local_globus))

    assert task["status"] == "SUCCEEDED"
    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )
    stats = local_globus.stats
    assert stats.token_grant_scopes == (TRANSFER_SCOPE, transfer_scope([source, destination]))
    assert stats.requests[SUBMIT_ROUTE] == 2
    assert stats.submissions_accepted == 1
    assert hook.consents.collection_ids == {source, destination}


def test_consent_required_on_listing(local_globus, hook_factory, source_file):
    hook = hook_factory()

    listing = hook.transfer_client.operation_ls(local_globus.collection_id("source"), path="/")

    assert [entry["name"] for entry in listing] == ["data.txt"]
    source = local_globus.collection_id("source")
    assert local_globus.stats.token_grant_scopes == (TRANSFER_SCOPE, transfer_scope([source]))


def test_consent_required_body_shape(local_globus, hook_factory):
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        local_globus.client_id, local_globus.client_secret, base_url=local_globus.auth_url
    )
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.ClientCredentialsAuthorizer(auth_client, TRANSFER_SCOPE),
        base_url=local_globus.transfer_url,
    )
    source = local_globus.collection_id("source")

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.operation_ls(source, path="/")

    error = caught.value
    required = [f"{TRANSFER_SCOPE}[*https://auth.globus.org/scopes/{source}/data_access]"]
    assert error.http_status == 403
    assert error.code == "ConsentRequired"
    assert error.message == "Missing required data_access consent"
    assert error.info.consent_required.required_scopes == required
    assert error.raw_json["authorization_parameters"]["required_scopes"] == required
    assert error.raw_json["resource"] == f"/v0.10/operation/endpoint/{source}/ls"


def test_refused_consent_fails_with_guide(local_globus, hook_factory, source_file):
    local_globus.refuse_consent("source")
    hook = hook_factory()
    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )
    hook.prepare_collections([source, destination])

    with pytest.raises(GlobusConsentError) as caught:
        copy_file(hook, local_globus)

    error = caught.value
    message = str(error)
    assert isinstance(error, AirflowFailException)
    assert f"source ({source})" in message
    assert f"{local_globus.client_id}@clients.auth.globus.org" in message
    assert "administrator" in message
    assert "clients.auth.globus.org domain" in message
    assert local_globus.client_secret not in message
    assert error.collection_ids == (source,)
    scope = transfer_scope([source, destination])
    assert local_globus.stats.token_grant_scopes == (TRANSFER_SCOPE, scope, scope)
    assert local_globus.stats.requests[SUBMIT_ROUTE] == 2
    assert local_globus.tasks() == []


def test_refused_consent_without_preparation(local_globus, hook_factory, source_file):
    local_globus.refuse_consent("destination")
    hook = hook_factory()

    with pytest.raises(GlobusConsentError, match="destination"):
        copy_file(hook, local_globus)

    source, destination = (
        local_globus.collection_id("source"),
        local_globus.collection_id("destination"),
    )
    assert local_globus.stats.token_grant_scopes == (
        TRANSFER_SCOPE,
        transfer_scope([source, destination]),
    )


def test_guest_collection_needs_access_rule(local_globus, hook_factory, tmp_path):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    (tmp_path / "shared" / "report.csv").write_text("a,b\n")
    shared = local_globus.collection_id("shared")
    hook = hook_factory()
    hook.prepare_collections([shared])

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        hook.transfer_client.operation_ls(shared, path="/")
    local_globus.grant_access("shared", path="/", permissions="r")
    listing = hook.transfer_client.operation_ls(shared, path="/")

    assert caught.value.http_status == 403
    assert caught.value.code == "EndpointPermissionDenied"
    assert f"{local_globus.client_id}@clients.auth.globus.org" in caught.value.message
    assert [entry["name"] for entry in listing] == ["report.csv"]
    assert hook.consents.collection_ids == frozenset()
    assert local_globus.stats.token_grant_scopes == (TRANSFER_SCOPE,)


def test_guest_rule_limits_path_and_writes(local_globus, hook_factory, tmp_path):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    (tmp_path / "shared" / "inbox").mkdir()
    (tmp_path / "shared" / "private").mkdir()
    local_globus.grant_access(
        "shared",
        identity=f"{local_globus.client_id}@clients.auth.globus.org",
        path="/inbox",
        permissions="r",
    )
    shared = local_globus.collection_id("shared")
    client = hook_factory().transfer_client

    assert list(client.operation_ls(shared, path="/inbox/")) == []
    with pytest.raises(globus_sdk.TransferAPIError, match="EndpointPermissionDenied"):
        client.operation_ls(shared, path="/private")
    with pytest.raises(globus_sdk.TransferAPIError, match="'rw' permissions"):
        client.operation_mkdir(shared, path="/inbox/new")


def test_high_assurance_has_no_data_access(local_globus, hook_factory, tmp_path, collections):
    local_globus.add_collection("secure", tmp_path / "secure", kind="high_assurance")
    (tmp_path / "secure" / "data.txt").write_text("sensitive\n")
    secure, destination = (
        local_globus.collection_id("secure"),
        local_globus.collection_id("destination"),
    )
    hook = hook_factory()

    hook.prepare_collections([secure, destination])
    task = local_globus.wait_for_task(copy_file(hook, local_globus, source="secure"))

    assert task["status"] == "SUCCEEDED"
    assert hook.consents.collection_ids == {destination}
    document = hook.transfer_client.get_endpoint(secure)
    assert document["entity_type"] == "GCSv5_mapped_collection"
    assert document["high_assurance"] is True
    assert local_globus.stats.token_grant_scopes[-1] == transfer_scope([destination])


def test_declared_guest_collection_is_config_error(local_globus, hook_factory, tmp_path):
    local_globus.add_collection("shared", tmp_path / "shared", kind="guest")
    shared = local_globus.collection_id("shared")
    hook = hook_factory(data_access_collections=[shared])

    with pytest.raises(GlobusConnectionConfigError) as caught:
        hook.transfer_client.task_list(limit=1)

    assert "data_access_collections" in str(caught.value)
    assert shared in str(caught.value)
    assert local_globus.stats.token_grants == 0
    assert local_globus.stats.token_rejections == 1
