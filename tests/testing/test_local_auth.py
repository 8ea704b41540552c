"""Token grant and bearer checks of the local service, through globus-sdk over loopback."""

from __future__ import annotations

import globus_sdk
import pytest
import requests

from globus_airflow.testing import LocalGlobusService

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"


def test_token_grant_with_good_secret(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )

    response = auth_client.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_SCOPE)

    assert response["token_type"] == "Bearer"
    assert response["resource_server"] == "transfer.api.globus.org"
    assert response["scope"] == TRANSFER_SCOPE
    assert response["expires_in"] == 172800
    assert response["other_tokens"] == []
    assert "transfer.api.globus.org" in response.by_resource_server
    assert service.stats.token_grants == 1


def test_token_grant_with_bad_secret(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient(service.client_id, "wrong", base_url=service.auth_url)

    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        auth_client.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_SCOPE)

    assert caught.value.http_status == 401
    assert caught.value.raw_json == {"error": "invalid_client"}
    assert service.stats.token_rejections == 1
    assert service.stats.token_grants == 0


def test_token_grant_with_unknown_client(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient("no-such-client", "secret", base_url=service.auth_url)

    with pytest.raises(globus_sdk.AuthAPIError) as caught:
        auth_client.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_SCOPE)

    assert caught.value.http_status == 401


def test_unsupported_grant_type(service: LocalGlobusService) -> None:
    response = requests.post(
        service.auth_url + "v2/oauth2/token",
        data={"grant_type": "password", "scope": TRANSFER_SCOPE},
        auth=(service.client_id, service.client_secret),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_unknown_scope(service: LocalGlobusService) -> None:
    response = requests.post(
        service.auth_url + "v2/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "urn:globus:auth:scope:nowhere:all"},
        auth=(service.client_id, service.client_secret),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_malformed_scope(service: LocalGlobusService) -> None:
    response = requests.post(
        service.auth_url + "v2/oauth2/token",
        data={"grant_type": "client_credentials", "scope": TRANSFER_SCOPE + "["},
        auth=(service.client_id, service.client_secret),
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_dependent_data_access_scope(service: LocalGlobusService) -> None:
    collection_id = service.collection_id("destination")
    scope = f"{TRANSFER_SCOPE}[*https://auth.globus.org/scopes/{collection_id}/data_access]"
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )

    response = auth_client.oauth2_client_credentials_tokens(requested_scopes=scope)

    assert response["scope"] == TRANSFER_SCOPE
    record = service._state.lookup_token(response["access_token"])
    assert record is not None
    assert record.dependent_scopes == (f"*https://auth.globus.org/scopes/{collection_id}/data_access",)

    authorizer = globus_sdk.AccessTokenAuthorizer(response["access_token"])
    client = globus_sdk.TransferClient(authorizer=authorizer, base_url=service.transfer_url)
    assert client.get_endpoint(collection_id)["id"] == collection_id


def test_auth_scopes_go_to_other_tokens(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )

    response = auth_client.oauth2_client_credentials_tokens(requested_scopes=f"{TRANSFER_SCOPE} openid")

    assert response["resource_server"] == "transfer.api.globus.org"
    assert [token["resource_server"] for token in response["other_tokens"]] == ["auth.globus.org"]
    assert set(response.by_resource_server) == {"transfer.api.globus.org", "auth.globus.org"}


def test_missing_bearer_token(service: LocalGlobusService) -> None:
    response = requests.get(service.transfer_url + "v0.10/task_list", timeout=10)

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "AuthenticationFailed"
    assert body["resource"] == "/v0.10/task_list"
    assert body["request_id"]


def test_unknown_bearer_token(service: LocalGlobusService) -> None:
    client = globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer("not-a-token"), base_url=service.transfer_url
    )

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.task_list()

    assert caught.value.http_status == 401
    assert caught.value.code == "AuthenticationFailed"


def test_auth_token_rejected_by_transfer(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )
    token = auth_client.oauth2_client_credentials_tokens(requested_scopes="openid")["access_token"]
    client = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(token), base_url=service.transfer_url)

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.task_list()

    assert caught.value.http_status == 401


def test_expired_token_rejected(service: LocalGlobusService) -> None:
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        service.client_id, service.client_secret, base_url=service.auth_url
    )
    token = auth_client.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_SCOPE)["access_token"]
    client = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(token), base_url=service.transfer_url)
    client.task_list()

    service.expire_tokens()

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.task_list()
    assert caught.value.http_status == 401
    assert caught.value.code == "AuthenticationFailed"


def test_token_lifetime_on_service_clock(source_dir, destination_dir) -> None:
    with LocalGlobusService(
        collections={"source": source_dir, "destination": destination_dir}, token_lifetime=600
    ) as service:
        auth_client = globus_sdk.ConfidentialAppAuthClient(
            service.client_id, service.client_secret, base_url=service.auth_url
        )
        response = auth_client.oauth2_client_credentials_tokens(requested_scopes=TRANSFER_SCOPE)
        assert response["expires_in"] == 600
        fixed = globus_sdk.TransferClient(
            authorizer=globus_sdk.AccessTokenAuthorizer(response["access_token"]), base_url=service.transfer_url
        )
        renewing = globus_sdk.TransferClient(
            authorizer=globus_sdk.ClientCredentialsAuthorizer(auth_client, scopes=TRANSFER_SCOPE),
            base_url=service.transfer_url,
        )
        renewing.task_list()
        assert service.stats.token_grants == 2

        service.advance_clock(601)

        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            fixed.task_list()
        assert caught.value.http_status == 401
        # The renewing authorizer handles the 401 by fetching a new token and retrying.
        renewing.task_list()
        assert service.stats.token_grants == 3
