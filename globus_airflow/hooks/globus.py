"""Airflow hook that hands out authorized globus-sdk clients."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import globus_sdk
from globus_sdk.transport import RetryConfig

from airflow.providers.common.compat.sdk import BaseHook
from globus_airflow.exceptions import GlobusConnectionConfigError, GlobusConsentError
from globus_airflow.hooks.consents import (
    TRANSFER_SCOPE,
    ConsentAwareTransferClient,
    ConsentRetries,
    DataAccessConsents,
    needs_data_access,
    split_required_scopes,
)
from globus_airflow.hooks.credentials import EXTRA_FIELDS, GlobusCredentials
from globus_airflow.hooks.tokens import (
    SharedTokenAuthorizer,
    SQLiteTokenStore,
    TokenSource,
    auth_error_code,
)

__all__ = ["EXTRA_FIELDS", "TRANSFER_SCOPE", "GlobusCredentials", "GlobusHook"]

log = logging.getLogger(__name__)

DEFAULT_WEB_APP_URL = "https://app.globus.org/"
"""Base URL of the Globus web app in the production environment."""

APP_NAME = "airflow-provider-globus"

_SQLITE_STORES: dict[Path, SQLiteTokenStore] = {}
_SQLITE_STORES_LOCK = threading.Lock()


def _sqlite_store(path: Path, *, conn_id: str) -> SQLiteTokenStore:
    """Return the process's store for a token file, opening (and creating) it once."""
    with _SQLITE_STORES_LOCK:
        store = _SQLITE_STORES.get(path)
        if store is None:
            store = _SQLITE_STORES[path] = SQLiteTokenStore(path, conn_id=conn_id)
        return store


class GlobusHook(BaseHook):
    """Interact with Globus Transfer as a confidential app (a service account).

    The connection's login is the app's client id and its password is a client
    secret. Tokens come from the client-credentials grant. Every hook of the
    process with the same app and scope shares one token, renewed shortly
    before it expires, so one hook serves waits of any length.

    GCS v5 mapped collections need a data_access consent in the token. The hook
    adds it for collections listed in the ``data_access_collections`` extra,
    for collections passed to :meth:`prepare_collections` whose document shows
    they need it, and for any collection that Transfer names in a
    ``ConsentRequired`` response, after which it repeats the call once.

    Optional connection extras (each may also be spelled ``extra__globus__<name>``):

    * ``auth_base_url`` and ``transfer_base_url``: service addresses, for the
      local Globus service in ``globus_airflow.testing`` or another deployment
    * ``environment``: a globus-sdk environment name such as ``preview``
    * ``web_app_url``: base URL of the web app that task links point to
    * ``data_access_collections``: mapped collection ids, as a list or a
      comma-separated string, whose consent every token carries
    * ``token_storage``: ``memory`` (the default) or ``sqlite:///<path>`` to
      share tokens with other processes through a file only its owner may read

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

    def _build_auth_client(
        self, *, retry_config: RetryConfig | None = None
    ) -> globus_sdk.ConfidentialAppAuthClient:
        creds = self.credentials
        return globus_sdk.ConfidentialAppAuthClient(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            environment=creds.environment,
            base_url=creds.auth_base_url,
            retry_config=retry_config,
        )

    @cached_property
    def auth_client(self) -> globus_sdk.ConfidentialAppAuthClient:
        """A Globus Auth client that authenticates as the confidential app."""
        return self._build_auth_client()

    @cached_property
    def consents(self) -> DataAccessConsents:
        """The data_access consents that this hook's tokens carry."""
        return DataAccessConsents(declared=self.credentials.data_access_collections)

    @cached_property
    def token_source(self) -> TokenSource:
        """Tokens shared with the process and, with a token storage file, the machine."""
        creds = self.credentials
        storage = None
        if creds.token_storage is not None:
            storage = _sqlite_store(creds.token_storage, conn_id=creds.conn_id)
        return TokenSource(self.auth_client, client_secret=creds.client_secret, storage=storage)

    @cached_property
    def authorizer(self) -> SharedTokenAuthorizer:
        """The authorizer of :attr:`transfer_client`; its scope follows :attr:`consents`."""
        consents = self.consents
        return SharedTokenAuthorizer(self.token_source, scope=lambda: consents.scope)

    @cached_property
    def transfer_client(self) -> globus_sdk.TransferClient:
        """A Transfer client, built once per hook, that handles tokens and consents itself."""
        creds = self.credentials
        log.debug("Built a Transfer client for connection %s", creds.conn_id)
        return ConsentAwareTransferClient(
            on_consent_required=self._on_consent_required,
            authorizer=self.authorizer,
            environment=creds.environment,
            base_url=creds.transfer_base_url,
            app_name=APP_NAME,
        )

    def get_conn(self) -> globus_sdk.TransferClient:
        """Return the hook's Transfer client."""
        return self.transfer_client

    def task_url(self, globus_task_id: str) -> str:
        """Return the web app address of a Globus task's activity page."""
        base = self.credentials.web_app_url or DEFAULT_WEB_APP_URL
        return f"{base.rstrip('/')}/activity/{globus_task_id}"

    # -- data_access consents ----------------------------------------------------------

    def prepare_collections(self, collection_ids: Iterable[str | None]) -> None:
        """Add the data_access consents that these collections need, before a call touches them.

        Each collection not declared in the connection or looked up before by
        this hook costs one ``get_endpoint`` call. A collection that cannot be
        looked up is logged and skipped: the call that uses it reports the
        problem in Globus's own words, and a ``ConsentRequired`` response is
        still handled then.

        :param collection_ids: collection UUIDs; ``None`` entries are ignored
        """
        unique_ids = dict.fromkeys(str(value).lower() for value in collection_ids if value)
        documents = {}
        for collection_id in unique_ids:
            if self.consents.is_known(collection_id):
                continue
            try:
                documents[collection_id] = self.transfer_client.get_endpoint(collection_id)
            except globus_sdk.GlobusAPIError as error:
                log.warning(
                    "Could not look up Globus collection %s (HTTP %s %s); its data_access "
                    "consent, if it needs one, will be requested when Transfer asks for it",
                    collection_id,
                    error.http_status,
                    error.code,
                )

        # Recording after all lookups keeps the token's scope unchanged between
        # them, so the lookups share one token.
        for collection_id, document in documents.items():
            needs_consent = needs_data_access(document)
            self.consents.record(
                collection_id,
                needs_consent=needs_consent,
                display_name=document.get("display_name"),
            )
            if needs_consent:
                log.info(
                    "Collection %s is a GCS v5 mapped collection: tokens will carry its "
                    "data_access consent",
                    self.consents.describe(collection_id),
                )

    def _on_consent_required(
        self, error: globus_sdk.TransferAPIError, retries: ConsentRetries
    ) -> None:
        """Get a token with the consents that Transfer asked for, or raise when that cannot help."""
        required = tuple(error.info.consent_required.required_scopes)
        collection_ids, other_scopes = split_required_scopes(required)
        if other_scopes or not collection_ids:
            raise self._consent_error(error, required, collection_ids, other_scopes)

        added = self.consents.add(collection_ids)
        scope = self.consents.scope
        if scope in retries.tried_scopes:
            raise self._consent_error(error, required, collection_ids, other_scopes)
        retries.tried_scopes.add(scope)

        if added:
            log.info(
                "Globus Transfer requires data_access consent for %s: getting a token that "
                "carries it, then repeating the call once",
                ", ".join(self.consents.describe(collection_id) for collection_id in sorted(added)),
            )
        else:
            log.warning(
                "Globus Transfer requires data_access consent that the current token already "
                "asked for; getting a new token and repeating the call once"
            )
            self.authorizer.renew()

    def _look_up_names(self, collection_ids: Iterable[str]) -> None:
        """Learn the display names of collections for a message; failures are ignored."""
        for collection_id in collection_ids:
            if self.consents.describe(collection_id) != collection_id:
                continue
            try:
                document = self.transfer_client.get_endpoint(collection_id)
            except globus_sdk.GlobusError:
                log.debug(
                    "Could not look up the name of collection %s", collection_id, exc_info=True
                )
                continue
            self.consents.record(
                collection_id,
                needs_consent=needs_data_access(document),
                display_name=document.get("display_name"),
            )

    def _consent_error(
        self,
        error: globus_sdk.TransferAPIError,
        required: tuple[str, ...],
        collection_ids: set[str],
        other_scopes: list[str],
    ) -> GlobusConsentError:
        identity = self.credentials.client_identity
        if other_scopes or not collection_ids:
            message = (
                f"Globus Transfer requires consent to {', '.join(required) or 'unnamed scopes'} "
                f"for client {identity}. A confidential app can only consent to data_access "
                "scopes of mapped collections by itself; this consent needs a different "
                f"setup. Transfer's message: {error.message} (request id {error.request_id})."
            )
        else:
            self._look_up_names(collection_ids)
            collections = ", ".join(self.consents.describe(c) for c in sorted(collection_ids))
            message = (
                f"Globus Transfer still requires data_access consent for collection {collections} "
                f"after the hook got a new token that requested it, so the app's identity "
                f"{identity} may not use that collection. Ask the collection's administrator "
                f"to allow {identity} on it: on a GCS v5 mapped collection the storage gateway "
                "must accept identities from the clients.auth.globus.org domain and map this "
                "identity to a local account. Then clear this Airflow task. Transfer's "
                f"message: {error.message} (request id {error.request_id})."
            )
        return GlobusConsentError(
            message, collection_ids=tuple(sorted(collection_ids)), required_scopes=required
        )

    # -- connection test and form ----------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Get a new token and make one cheap Transfer call; never raises.

        The grant bypasses the token caches, so a changed or revoked secret
        shows up here. Neither call retries, so a service that is down fails fast.

        :return: whether the connection works, and a message that never
            contains the client secret
        """
        stage, address = "Globus Auth", "its address"
        try:
            creds = self.credentials
            no_retries = RetryConfig(max_retries=0)
            auth_client = self._build_auth_client(retry_config=no_retries)
            address = auth_client.base_url
            grant_source = TokenSource(auth_client, client_secret=creds.client_secret)
            token = grant_source.grant(self.consents.scope)

            client = globus_sdk.TransferClient(
                authorizer=globus_sdk.AccessTokenAuthorizer(token.access_token),
                environment=creds.environment,
                base_url=creds.transfer_base_url,
                app_name=APP_NAME,
                retry_config=no_retries,
            )
            stage, address = "Globus Transfer", client.base_url
            client.task_list(limit=1)
        except GlobusConnectionConfigError as err:
            return False, str(err)
        except globus_sdk.AuthAPIError as err:
            code = auth_error_code(err)
            if err.http_status == 401 or code == "invalid_client":
                return False, (
                    f"Globus Auth rejected client id {self.credentials.client_id} "
                    f"(HTTP {err.http_status} {code}): the client id is unknown or the "
                    "secret is wrong. Use the id of a confidential app and one of its "
                    "current secrets."
                )
            return False, (
                f"Globus Auth refused a token to client {self.credentials.client_id}: "
                f"HTTP {err.http_status} {code}"
            )
        except globus_sdk.GlobusAPIError as err:
            return False, (
                f"{stage} returned HTTP {err.http_status} ({err.code}) to client "
                f"{self.credentials.client_id}"
            )
        except globus_sdk.NetworkError as err:
            return False, f"Could not reach {stage} at {address}: {type(err).__name__}"
        except Exception as err:  # the UI shows this message instead of a traceback
            log.exception("Testing Globus connection %s failed", self.globus_conn_id)
            return False, f"Testing the connection failed with {type(err).__name__}"
        return True, f"Client {creds.client_id} got a token and can reach Globus Transfer"

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

        from globus_airflow.get_provider_info import CONN_FIELDS

        return {
            name: StringField(
                lazy_gettext(field["label"]),
                description=field["description"],
                widget=BS3TextFieldWidget(),
            )
            for name, field in CONN_FIELDS.items()
        }
