"""The confidential app and its settings, read from an Airflow connection of type ``globus``."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import mask_secret
from globus_airflow.exceptions import GlobusConnectionConfigError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection

CLIENT_IDENTITY_DOMAIN = "clients.auth.globus.org"
"""Globus Auth gives each confidential app the identity ``<client id>@clients.auth.globus.org``."""

STRING_EXTRAS = ("auth_base_url", "transfer_base_url", "environment", "web_app_url")
EXTRA_FIELDS = (*STRING_EXTRAS, "data_access_collections", "token_storage")
"""Connection extras that the hook reads. Each may also be spelled ``extra__globus__<name>``."""

MEMORY_TOKEN_STORAGE = "memory"
SQLITE_URL_PREFIX = "sqlite:///"


@dataclasses.dataclass(frozen=True)
class GlobusCredentials:
    """The confidential app and service settings read from one Airflow connection.

    The secret is left out of ``repr()`` and ``str()`` so that it cannot
    reach a log line through a debug print of this object.

    :param data_access_collections: ids of GCS v5 mapped collections whose
        data_access consent every token should carry, lower case
    :param token_storage: path of the SQLite file that shares tokens between
        processes, or ``None`` to keep them in this process's memory only
    """

    conn_id: str
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    auth_base_url: str | None = None
    transfer_base_url: str | None = None
    environment: str | None = None
    web_app_url: str | None = None
    data_access_collections: tuple[str, ...] = ()
    token_storage: Path | None = None

    @classmethod
    def from_connection(cls, conn: Connection) -> GlobusCredentials:
        """Read credentials from an Airflow connection of type ``globus``.

        :raises GlobusConnectionConfigError: the client id or secret is
            missing, or an extra is invalid
        """
        client_id = (conn.login or "").strip()
        client_secret = conn.password or ""

        if not client_id:
            raise GlobusConnectionConfigError(
                f"Airflow connection {conn.conn_id!r} has no client id: set its login "
                "(shown as 'Client ID') to the client id of your Globus confidential app."
            )
        if not client_secret:
            raise GlobusConnectionConfigError(
                f"Airflow connection {conn.conn_id!r} has no client secret: set its password "
                "(shown as 'Client Secret') to a secret of your Globus confidential app."
            )

        mask_secret(client_secret)
        extra = conn.extra_dejson or {}
        values = {name: _string_extra(extra, name) for name in STRING_EXTRAS}
        return cls(
            conn_id=conn.conn_id,
            client_id=client_id,
            client_secret=client_secret,
            data_access_collections=parse_collection_list(
                read_extra(extra, "data_access_collections"), conn_id=conn.conn_id
            ),
            token_storage=parse_token_storage(
                read_extra(extra, "token_storage"), conn_id=conn.conn_id
            ),
            **values,
        )

    @property
    def client_identity(self) -> str:
        """The Globus identity username of the confidential app."""
        return f"{self.client_id}@{CLIENT_IDENTITY_DOMAIN}"


def read_extra(extra: dict[str, Any], name: str) -> Any:
    """Return an extra by its plain name or its ``extra__globus__<name>`` form; ``None`` when unset.

    The long form is what connection forms of Airflow before 2.3 saved.
    """
    value = extra.get(name)
    if value is None or value == "":
        value = extra.get(f"extra__globus__{name}")
    return None if value == "" else value


def _string_extra(extra: dict[str, Any], name: str) -> str | None:
    value = read_extra(extra, name)
    return None if value is None else str(value).strip() or None


def parse_collection_list(value: Any, *, conn_id: str) -> tuple[str, ...]:
    """Parse ``data_access_collections``: a list of collection ids or one comma-separated string.

    :return: the ids in lower case, without repeats, in the order given
    :raises GlobusConnectionConfigError: an entry is not a UUID
    """
    if value is None:
        return ()
    if isinstance(value, str):
        entries = value.replace("\n", ",").split(",")
    elif isinstance(value, (list, tuple)):
        entries = list(value)
    else:
        raise GlobusConnectionConfigError(
            f"Airflow connection {conn_id!r}: extra data_access_collections must be a list "
            f"of collection ids or a comma-separated string, got {type(value).__name__} {value!r}."
        )

    ids: list[str] = []
    for entry in entries:
        text = str(entry).strip()
        if not text:
            continue
        try:
            collection_id = str(uuid.UUID(text))
        except ValueError:
            raise GlobusConnectionConfigError(
                f"Airflow connection {conn_id!r}: {text!r} in extra data_access_collections is "
                "not a collection id; list the UUIDs of GCS v5 mapped collections, such as "
                "'8a6ab5c7-...' from the collection's page in the Globus web app."
            ) from None
        if collection_id not in ids:
            ids.append(collection_id)
    return tuple(ids)


def parse_token_storage(value: Any, *, conn_id: str) -> Path | None:
    """Parse ``token_storage``: ``memory`` (default), ``sqlite:///<path>`` or an absolute path.

    :return: the SQLite file's path, or ``None`` for memory storage
    :raises GlobusConnectionConfigError: the value is neither form, or the path is relative
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in ("", MEMORY_TOKEN_STORAGE):
        return None

    raw_path = text
    if text.startswith(SQLITE_URL_PREFIX):
        # As in a file:// URL, the path follows "sqlite://"; SQLAlchemy's form with a
        # fourth slash names the same absolute path.
        raw_path = "/" + text[len(SQLITE_URL_PREFIX) :].lstrip("/")
    if "://" in raw_path:
        raise GlobusConnectionConfigError(
            f"Airflow connection {conn_id!r}: token_storage {text!r} is not supported; use "
            "'memory', 'sqlite:///var/lib/airflow/globus-tokens.db' or an absolute file path."
        )
    path = Path(raw_path).expanduser()
    if not path.is_absolute():
        raise GlobusConnectionConfigError(
            f"Airflow connection {conn_id!r}: token_storage path {raw_path!r} is relative; "
            "give an absolute path, because workers run from different directories."
        )
    return path
