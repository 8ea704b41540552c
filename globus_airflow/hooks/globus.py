"""Airflow hook that hands out authorized globus-sdk clients."""

from __future__ import annotations

import dataclasses
import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

import globus_sdk

from airflow.providers.common.compat.sdk import BaseHook, mask_secret
from globus_airflow.exceptions import GlobusConnectionConfigError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection

log = logging.getLogger(__name__)

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"
"""The scope that every Transfer call needs."""

DEFAULT_WEB_APP_URL = "https://app.globus.org/"
"""Base URL of the Globus web app in the production environment."""

EXTRA_FIELDS = ("auth_base_url", "transfer_base_url", "environment", "web_app_url")
"""Connection extras that the hook reads. Each may also be spelled ``extra__globus__<name>``."""


@dataclasses.dataclass(frozen=True)
class GlobusCredentials:
    """The confidential app and service addresses read from one Airflow connection.

    The secret is left out of ``repr()`` so that it cannot reach a log line
    through a debug print of this object.
    """

    conn_id: str
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    auth_base_url: str | None = None
    transfer_base_url: str | None = None
    environment: str | None = None
    web_app_url: str | None = None

    @classmethod
    def from_connection(cls, conn: Connection) -> GlobusCredentials:
        """Read credentials from an Airflow connection of type ``globus``.

        :raises GlobusConnectionConfigError: the client id or secret is missing
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
        values = {name: _read_extra(extra, name) for name in EXTRA_FIELDS}
        return cls(
            conn_id=conn.conn_id,
            client_id=client_id,
            client_secret=client_secret,
            **values,
        )

    @property
    def client_identity(self) -> str:
        """The Globus identity username of the confidential app."""
        return f"{self.client_id}@clients.auth.globus.org"


def _read_extra(extra: dict[str, Any], name: str) -> str | None:
    value = extra.get(name) or extra.get(f"extra__globus__{name}")
    if value is None or value == "":
        return None
    return str(value)


class GlobusHook(BaseHook):
    """Interact with Globus Transfer as a confidential app (a service account).

    The connection's login is the app's client id and its password is a client
    secret. Tokens come from the client-credentials grant and are renewed by
    globus-sdk shortly before they expire, so one hook serves waits of any length.

    Optional connection extras:

    * ``auth_base_url`` and ``transfer_base_url``: service addresses, for the
      local Globus service in ``globus_airflow.testing`` or another deployment
    * ``environment``: a globus-sdk environment name such as ``preview``
    * ``web_app_url``: base URL of the web app that task links point to

    :param globus_conn_id: the Airflow connection id, ``globus_default`` by default
    :param credentials: credentials already read from the connection; the hook
        then makes no connection lookup, which suits code running in the triggerer
    """

    conn_name_attr = "globus_conn_id"
    default_conn_name = "globus_default"
    conn_type = "globus"
    hook_name = "Globus"

    def __init__(
        self,
        globus_conn_id: str = default_conn_name,
        *,
        credentials: GlobusCredentials | None = None,
    ) -> None:
        super().__init__()
        self.globus_conn_id = globus_conn_id
        if credentials is not None:
            self.__dict__["credentials"] = credentials

    def __repr__(self) -> str:
        return f"{type(self).__name__}(globus_conn_id={self.globus_conn_id!r})"

    @cached_property
    def credentials(self) -> GlobusCredentials:
        """Credentials read once from the Airflow connection."""
        return GlobusCredentials.from_connection(self.get_connection(self.globus_conn_id))

    @cached_property
    def auth_client(self) -> globus_sdk.ConfidentialAppAuthClient:
        """A Globus Auth client that authenticates as the confidential app."""
        creds = self.credentials
        return globus_sdk.ConfidentialAppAuthClient(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            environment=creds.environment,
            base_url=creds.auth_base_url,
        )

    @cached_property
    def transfer_client(self) -> globus_sdk.TransferClient:
        """A Transfer client, built once per hook, whose tokens renew themselves."""
        creds = self.credentials
        authorizer = globus_sdk.ClientCredentialsAuthorizer(self.auth_client, TRANSFER_SCOPE)
        log.debug("Built a Transfer client for connection %s", creds.conn_id)
        return globus_sdk.TransferClient(
            authorizer=authorizer,
            environment=creds.environment,
            base_url=creds.transfer_base_url,
            app_name="airflow-provider-globus",
        )

    def get_conn(self) -> globus_sdk.TransferClient:
        """Return the hook's Transfer client."""
        return self.transfer_client

    def task_url(self, globus_task_id: str) -> str:
        """Return the web app address of a Globus task's activity page."""
        base = self.credentials.web_app_url or DEFAULT_WEB_APP_URL
        return f"{base.rstrip('/')}/activity/{globus_task_id}"

    def test_connection(self) -> tuple[bool, str]:
        """Get a token and make one cheap Transfer call; never raises.

        :return: whether the connection works, and a message that never
            contains the client secret
        """
        try:
            self.transfer_client.get_submission_id()
        except globus_sdk.AuthAPIError as err:
            return False, f"Globus Auth rejected client {self.credentials.client_id}: {err.code}"
        except globus_sdk.GlobusAPIError as err:
            return False, f"Globus Transfer returned HTTP {err.http_status} ({err.code})"
        except globus_sdk.NetworkError as err:
            return False, f"Could not reach Globus: {type(err).__name__}"
        except GlobusConnectionConfigError as err:
            return False, str(err)
        return True, f"Client {self.credentials.client_id} can reach Globus Transfer"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel and hide the standard connection form fields (Airflow 2.11 to 3.1)."""
        from globus_airflow.get_provider_info import UI_FIELD_BEHAVIOUR

        return UI_FIELD_BEHAVIOUR

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Add the extras to the connection form (Airflow 2.11 to 3.1)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import StringField

        labels = {
            "auth_base_url": "Auth base URL",
            "transfer_base_url": "Transfer base URL",
            "environment": "Globus environment",
            "web_app_url": "Web app URL",
        }
        return {
            name: StringField(lazy_gettext(label), widget=BS3TextFieldWidget())
            for name, label in labels.items()
        }
