"""Reading the globus connection: client fields, extras in both spellings, and secret hiding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow.providers.common.compat.sdk import Connection
from globus_airflow.exceptions import GlobusConnectionConfigError
from globus_airflow.hooks.credentials import (
    GlobusCredentials,
    parse_collection_list,
    parse_token_storage,
)

SECRET = "s3cret-value-that-must-not-leak"
FIRST = "11111111-2222-4333-8444-555555555555"
SECOND = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def connection(
    extra: dict | None = None, *, login: str = "client-id", password: str = SECRET
) -> Connection:
    return Connection(
        conn_id="globus_test",
        conn_type="globus",
        login=login,
        password=password,
        extra=json.dumps(extra or {}),
    )


def test_plain_extras() -> None:
    credentials = GlobusCredentials.from_connection(
        connection(
            {
                "auth_base_url": "http://127.0.0.1:1/auth/",
                "environment": "preview",
                "data_access_collections": [FIRST, SECOND],
                "token_storage": "sqlite:///var/lib/airflow/tokens.db",
            }
        )
    )

    assert credentials.client_id == "client-id"
    assert credentials.auth_base_url == "http://127.0.0.1:1/auth/"
    assert credentials.environment == "preview"
    assert credentials.transfer_base_url is None
    assert credentials.data_access_collections == (FIRST, SECOND)
    assert credentials.token_storage == Path("/var/lib/airflow/tokens.db")
    assert credentials.client_identity == "client-id@clients.auth.globus.org"


def test_prefixed_extras() -> None:
    credentials = GlobusCredentials.from_connection(
        connection(
            {
                "extra__globus__transfer_base_url": "http://127.0.0.1:1/transfer/",
                "extra__globus__data_access_collections": f"{FIRST}, {SECOND.upper()}",
                "extra__globus__token_storage": "memory",
                "web_app_url": "",
                "extra__globus__web_app_url": "http://127.0.0.1:1/app/",
            }
        )
    )

    assert credentials.transfer_base_url == "http://127.0.0.1:1/transfer/"
    assert credentials.data_access_collections == (FIRST, SECOND)
    assert credentials.token_storage is None
    assert credentials.web_app_url == "http://127.0.0.1:1/app/"


def test_collection_list_forms() -> None:
    assert parse_collection_list(None, conn_id="c") == ()
    assert parse_collection_list("", conn_id="c") == ()
    assert parse_collection_list(f"{FIRST},,{FIRST}\n{SECOND}", conn_id="c") == (FIRST, SECOND)
    assert parse_collection_list([SECOND, FIRST], conn_id="c") == (SECOND, FIRST)


def test_collection_list_rejects_non_uuid() -> None:
    with pytest.raises(
        GlobusConnectionConfigError, match="'my-collection' in extra data_access_collections"
    ):
        parse_collection_list(f"{FIRST},my-collection", conn_id="c")
    with pytest.raises(GlobusConnectionConfigError, match="must be a list"):
        parse_collection_list({"id": FIRST}, conn_id="c")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("memory", None),
        ("MEMORY", None),
        ("sqlite:///tmp/tokens.db", Path("/tmp/tokens.db")),
        ("sqlite:////tmp/tokens.db", Path("/tmp/tokens.db")),
        ("/tmp/tokens.db", Path("/tmp/tokens.db")),
    ],
)
def test_token_storage_forms(value, expected) -> None:
    assert parse_token_storage(value, conn_id="c") == expected


def test_token_storage_home_path() -> None:
    assert parse_token_storage("~/tokens.db", conn_id="c") == Path.home() / "tokens.db"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tokens.db", "is relative"),
        ("redis://localhost/0", "is not supported"),
    ],
)
def test_token_storage_rejects(value, message) -> None:
    with pytest.raises(GlobusConnectionConfigError, match=message):
        parse_token_storage(value, conn_id="c")


def test_missing_client_fields() -> None:
    with pytest.raises(GlobusConnectionConfigError, match="no client id"):
        GlobusCredentials.from_connection(connection(login=" "))
    with pytest.raises(GlobusConnectionConfigError, match="no client secret"):
        GlobusCredentials.from_connection(connection(password=""))


def test_secret_hidden_from_repr_and_str() -> None:
    credentials = GlobusCredentials.from_connection(connection())

    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials)
    assert "client-id" in repr(credentials)
