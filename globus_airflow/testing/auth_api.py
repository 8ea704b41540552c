"""The Globus Auth part of the local service: the client-credentials token grant.

Mounted at ``/auth``, so ``ConfidentialAppAuthClient(base_url=service.auth_url)``
posts to ``/auth/v2/oauth2/token``. Transfer routes accept the tokens issued here.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Request
from globus_sdk.scopes import ScopeParser

from globus_airflow.testing.access import TRANSFER_SCOPE, grant_dependent_scopes
from globus_airflow.testing.errors import OAuthError, TransferError
from globus_airflow.testing.state import ServiceState, TokenRecord

logger = logging.getLogger(__name__)

TRANSFER_RESOURCE_SERVER = "transfer.api.globus.org"
AUTH_RESOURCE_SERVER = "auth.globus.org"

# Scope string -> resource server. Only the Transfer scope may carry dependent
# scopes such as ``[*https://auth.globus.org/scopes/<collection id>/data_access]``,
# and only of mapped collections (see testing.access).
KNOWN_SCOPES = {
    TRANSFER_SCOPE: TRANSFER_RESOURCE_SERVER,
    "openid": AUTH_RESOURCE_SERVER,
    "profile": AUTH_RESOURCE_SERVER,
    "email": AUTH_RESOURCE_SERVER,
    "urn:globus:auth:scope:auth.globus.org:view_identities": AUTH_RESOURCE_SERVER,
}


def _read_form(raw_body: bytes) -> dict[str, str]:
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OAuthError(400, "invalid_request", "the request body is not UTF-8") from error
    parsed = parse_qs(text, keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str]:
    """Return (client_id, client_secret) from HTTP Basic auth or the form body."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError(401, "invalid_client") from error
        client_id, separator, client_secret = decoded.partition(":")
        if not separator:
            raise OAuthError(401, "invalid_client")
        # RFC 6749 section 2.3.1 form-encodes both parts before Basic encoding.
        return unquote(client_id), unquote(client_secret)

    client_id = form.get("client_id", "")
    client_secret = form.get("client_secret", "")
    if not client_id or not client_secret:
        raise OAuthError(401, "invalid_client")
    return client_id, client_secret


def _group_scopes(scope_string: str) -> dict[str, tuple[list[str], list[str]]]:
    """Parse requested scopes into {resource server: (scopes, dependent scopes)}.

    Resource servers keep the order in which the request first names them.
    Raise OAuthError ``invalid_scope`` for unknown or malformed scopes.
    """
    try:
        parsed = ScopeParser.parse(scope_string)
    except ValueError as error:
        # NOTE: the description text is a guess; Globus Auth's exact body for a
        # malformed or unknown scope was not checked against the real service.
        raise OAuthError(400, "invalid_scope", f"cannot parse scope string: {error}") from error
    if not parsed:
        raise OAuthError(400, "invalid_scope", "no scope was requested")

    parsed.sort(key=lambda scope: scope_string.find(scope.scope_string))
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for scope in parsed:
        resource_server = KNOWN_SCOPES.get(scope.scope_string)
        if resource_server is None:
            raise OAuthError(400, "invalid_scope", f"unknown scope {scope.scope_string!r}")
        if scope.dependencies and resource_server != TRANSFER_RESOURCE_SERVER:
            raise OAuthError(
                400, "invalid_scope", f"scope {scope.scope_string!r} takes no dependent scopes"
            )

        scopes, dependencies = groups.setdefault(resource_server, ([], []))
        if scope.scope_string not in scopes:
            scopes.append(scope.scope_string)
        dependencies.extend(str(dependency) for dependency in scope.dependencies)
    return groups


def build_auth_router(state: ServiceState) -> APIRouter:
    """Build the router of the Globus Auth routes, to be mounted at ``/auth``."""
    router = APIRouter()

    @router.post("/v2/oauth2/token")
    async def token_grant(request: Request) -> dict[str, Any]:
        """Grant access tokens for ``grant_type=client_credentials``.

        The body has the fields of globus-sdk's canned
        ``oauth2_client_credentials_tokens`` response: one token per resource
        server, the first at the top level and the rest in ``other_tokens``.
        """
        form = _read_form(await request.body())
        try:
            client_id, client_secret = _client_credentials(request.headers.get("authorization"), form)
            if not state.check_client(client_id, client_secret):
                raise OAuthError(401, "invalid_client")
        except OAuthError:
            state.count_token_grant(granted=False)
            logger.info("rejected a token request: invalid client credentials")
            raise

        grant_type = form.get("grant_type", "")
        if grant_type != "client_credentials":
            state.count_token_grant(granted=False)
            raise OAuthError(400, "unsupported_grant_type", f"grant type {grant_type!r} is not supported")

        # NOTE: Globus Auth's response to a client-credentials request without a
        # scope was not checked; the Transfer scope is the default here.
        scope_string = form.get("scope", "").strip() or TRANSFER_SCOPE
        try:
            groups = _group_scopes(scope_string)
            if TRANSFER_RESOURCE_SERVER in groups:
                scopes, dependencies = groups[TRANSFER_RESOURCE_SERVER]
                groups[TRANSFER_RESOURCE_SERVER] = (scopes, list(grant_dependent_scopes(state, dependencies)))
        except OAuthError as error:
            state.count_token_grant(granted=False)
            logger.info("rejected a token request of client %s: %s", client_id, error.description)
            raise

        documents = []
        for resource_server, (scopes, dependencies) in groups.items():
            token, _record = state.issue_token(
                client_id=client_id,
                resource_server=resource_server,
                scopes=tuple(scopes),
                dependent_scopes=tuple(dependencies),
            )
            documents.append(
                {
                    "access_token": token,
                    "scope": " ".join(scopes),
                    "expires_in": state.token_lifetime,
                    "token_type": "Bearer",
                    "resource_server": resource_server,
                }
            )
        state.count_token_grant(granted=True, scope=scope_string)
        logger.info("granted tokens to client %s for %s", client_id, ", ".join(groups))

        response = dict(documents[0])
        response["other_tokens"] = documents[1:]
        return response

    return router


def authenticate_bearer(state: ServiceState, authorization: str | None) -> str:
    """Return the identity id behind a Transfer request's ``Authorization: Bearer`` token.

    Raise TransferError 401 ``AuthenticationFailed`` when the header is missing,
    malformed, or names a token that is unknown, expired or not for Transfer.
    """
    return authenticate_token(state, authorization).client_id


def authenticate_token(state: ServiceState, authorization: str | None) -> TokenRecord:
    """Return the record of a Transfer request's bearer token, with its scopes and consents.

    Raise TransferError 401 as :func:`authenticate_bearer` does.
    """
    if not authorization:
        raise TransferError(401, "AuthenticationFailed", "No Authorization header provided")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TransferError(401, "AuthenticationFailed", "Authorization header must be 'Bearer <token>'")

    record = state.lookup_token(token.strip())
    if record is None or record.resource_server != TRANSFER_RESOURCE_SERVER:
        raise TransferError(401, "AuthenticationFailed", "Token is not active")
    return record
