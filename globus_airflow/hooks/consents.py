"""data_access consents of Globus Connect Server v5 mapped collections.

Globus Transfer responds with 403 ``ConsentRequired`` to a token that lacks the
dependent scope ``https://auth.globus.org/scopes/<collection id>/data_access``
of a GCS v5 mapped collection that is not high assurance. Guest, high
assurance and Globus Connect Personal collections have no such scope, and
Globus Auth rejects a grant that requests one as an unknown scope (globus-sdk
4.x, ``TransferClient.add_app_data_access_scope``). A confidential app has no
user to ask, so asking for the scope in its client-credentials grant is how it
consents.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import globus_sdk
from globus_sdk.scopes import GCSCollectionScopes, ScopeParser, TransferScopes

log = logging.getLogger(__name__)

TRANSFER_SCOPE = str(TransferScopes.all)
"""The scope that every Transfer call needs: ``urn:globus:auth:scope:transfer.api.globus.org:all``."""

_DATA_ACCESS_SCOPE = re.compile(
    r"^https://auth\.globus\.org/scopes/([0-9a-fA-F-]{36})/data_access$"
)


def transfer_scope(collection_ids: Iterable[str]) -> str:
    """Build the Transfer scope with the data_access scopes of ``collection_ids`` as optional dependencies.

    The ids are sorted, so the same set always gives the same string, which is
    the key of the token cache. The scope objects of ``globus_sdk.scopes``
    exist in the same form from globus-sdk 4.0.0 on.
    """
    dependencies = [
        GCSCollectionScopes(collection_id).data_access.with_optional(True)
        for collection_id in sorted(set(collection_ids))
    ]
    if not dependencies:
        return TRANSFER_SCOPE
    return str(TransferScopes.all.with_dependencies(dependencies))


def needs_data_access(document: Mapping[str, Any]) -> bool:
    """Return whether a collection document (from ``get_endpoint``) describes a collection that needs data_access consent."""
    return document.get("entity_type") == "GCSv5_mapped_collection" and not document.get(
        "high_assurance"
    )


def split_required_scopes(required_scopes: Iterable[str]) -> tuple[set[str], list[str]]:
    """Split the ``required_scopes`` of a ConsentRequired response.

    :return: the collection ids whose data_access scope is required, and every
        other required scope (such as the Transfer scope itself, listed
        without dependencies), which a grant cannot add
    """
    collection_ids: set[str] = set()
    others: list[str] = []
    for text in required_scopes:
        try:
            parsed = ScopeParser.parse(text)
        except ValueError:
            others.append(text)
            continue
        for scope in parsed:
            found = _collect_data_access(scope, collection_ids)
            if not found and scope.scope_string != TRANSFER_SCOPE:
                others.append(str(scope))
    return collection_ids, others


def _collect_data_access(scope: globus_sdk.scopes.Scope, collection_ids: set[str]) -> bool:
    match = _DATA_ACCESS_SCOPE.match(scope.scope_string)
    if match:
        collection_ids.add(match.group(1).lower())
    found = bool(match)
    for dependency in scope.dependencies:
        found = _collect_data_access(dependency, collection_ids) or found
    return found


class DataAccessConsents:
    """The data_access consents of one hook's tokens, and what it learnt about collections.

    Thread-safe, because a hook may be shared between threads.

    :param declared: collection ids from the connection's
        ``data_access_collections`` extra; they are never looked up
    """

    def __init__(self, *, declared: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._collection_ids: set[str] = set(declared)
        self._needs_consent: dict[str, bool] = {collection_id: True for collection_id in declared}
        self._names: dict[str, str] = {}

    @property
    def scope(self) -> str:
        """The scope string that the hook's tokens ask for now."""
        with self._lock:
            return transfer_scope(self._collection_ids)

    @property
    def collection_ids(self) -> frozenset[str]:
        """Collections whose data_access consent the tokens carry."""
        with self._lock:
            return frozenset(self._collection_ids)

    def is_known(self, collection_id: str) -> bool:
        """Return whether the collection was declared or looked up already."""
        with self._lock:
            return collection_id in self._needs_consent

    def record(self, collection_id: str, *, needs_consent: bool, display_name: str | None) -> None:
        """Remember a looked-up collection; one that needs consent joins the scope."""
        with self._lock:
            self._needs_consent[collection_id] = needs_consent
            if display_name:
                self._names[collection_id] = display_name
            if needs_consent:
                self._collection_ids.add(collection_id)

    def add(self, collection_ids: Iterable[str]) -> set[str]:
        """Add collections to the scope; return those that were not in it yet."""
        with self._lock:
            added = set(collection_ids) - self._collection_ids
            self._collection_ids |= added
            for collection_id in added:
                self._needs_consent[collection_id] = True
            return added

    def describe(self, collection_id: str) -> str:
        """Name a collection for a message: ``display name (id)`` when the name is known."""
        with self._lock:
            name = self._names.get(collection_id)
        return f"{name} ({collection_id})" if name else collection_id


@dataclasses.dataclass
class ConsentRetries:
    """The scopes with which one call has already been repeated after a ConsentRequired response."""

    tried_scopes: set[str] = dataclasses.field(default_factory=set)


ConsentHandler = Callable[[globus_sdk.TransferAPIError, ConsentRetries], None]
"""Called on ConsentRequired: prepares a token for one more try, or raises."""


class ConsentAwareTransferClient(globus_sdk.TransferClient):
    """A TransferClient that repeats a call after a ConsentRequired response, once per new scope.

    Every request of a globus-sdk client goes through :meth:`request`, so this
    covers submits, listings and any other call. Repeating a submit is safe
    because its submission id makes Globus run the task at most once.

    :param on_consent_required: gets a token with the required consents ready
        for the next try, or raises when no new token can help
    """

    def __init__(self, *, on_consent_required: ConsentHandler, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_consent_required = on_consent_required

    def request(self, method: str, path: str, **kwargs: Any) -> globus_sdk.GlobusHTTPResponse:
        retries = ConsentRetries()
        while True:
            try:
                return super().request(method, path, **kwargs)
            except globus_sdk.TransferAPIError as error:
                if not error.info.consent_required:
                    raise
                log.info("Globus Transfer responded with ConsentRequired to %s %s", method, path)
                self._on_consent_required(error, retries)
