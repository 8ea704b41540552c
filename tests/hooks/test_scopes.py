"""Scope strings with data_access dependencies, and reading them back from ConsentRequired."""

from __future__ import annotations

from globus_sdk.scopes import ScopeParser

from globus_airflow.hooks.consents import (
    TRANSFER_SCOPE,
    DataAccessConsents,
    needs_data_access,
    split_required_scopes,
    transfer_scope,
)

FIRST = "11111111-2222-4333-8444-555555555555"
SECOND = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def data_access(collection_id: str) -> str:
    return f"https://auth.globus.org/scopes/{collection_id}/data_access"


def test_transfer_scope_without_collections() -> None:
    assert transfer_scope([]) == "urn:globus:auth:scope:transfer.api.globus.org:all"
    assert TRANSFER_SCOPE == "urn:globus:auth:scope:transfer.api.globus.org:all"


def test_transfer_scope_with_optional_dependencies() -> None:
    scope = transfer_scope([SECOND, FIRST, SECOND])

    assert scope == f"{TRANSFER_SCOPE}[*{data_access(FIRST)} *{data_access(SECOND)}]"
    parsed = ScopeParser.parse(scope)
    assert len(parsed) == 1
    assert {dependency.scope_string for dependency in parsed[0].dependencies} == {
        data_access(FIRST),
        data_access(SECOND),
    }
    assert all(dependency.optional for dependency in parsed[0].dependencies)


def test_transfer_scope_ignores_order() -> None:
    assert transfer_scope([FIRST, SECOND]) == transfer_scope([SECOND, FIRST])


def test_split_required_data_access() -> None:
    required = [f"{TRANSFER_SCOPE}[*{data_access(FIRST.upper())} {data_access(SECOND)}]"]

    collection_ids, others = split_required_scopes(required)

    assert collection_ids == {FIRST, SECOND}
    assert others == []


def test_split_required_other_scopes() -> None:
    collection_ids, others = split_required_scopes(
        [TRANSFER_SCOPE, "openid", f"{TRANSFER_SCOPE}[*{data_access(FIRST)}]", "not a [scope"]
    )

    assert collection_ids == {FIRST}
    assert others == ["openid", "not a [scope"]


def test_needs_data_access_by_kind() -> None:
    assert needs_data_access({"entity_type": "GCSv5_mapped_collection", "high_assurance": False})
    assert not needs_data_access({"entity_type": "GCSv5_mapped_collection", "high_assurance": True})
    assert not needs_data_access({"entity_type": "GCSv5_guest_collection", "high_assurance": False})
    assert not needs_data_access({"entity_type": "GCP_mapped_collection"})
    assert not needs_data_access({"entity_type": "GCSv5_endpoint"})


def test_consents_scope_grows() -> None:
    consents = DataAccessConsents(declared=[FIRST])

    assert consents.scope == transfer_scope([FIRST])
    assert consents.is_known(FIRST)
    assert not consents.is_known(SECOND)

    consents.record(SECOND, needs_consent=False, display_name="guest")
    assert consents.scope == transfer_scope([FIRST])
    assert consents.is_known(SECOND)
    assert consents.describe(SECOND) == f"guest ({SECOND})"

    assert consents.add([FIRST, SECOND]) == {SECOND}
    assert consents.scope == transfer_scope([FIRST, SECOND])
    assert consents.add([SECOND]) == set()
