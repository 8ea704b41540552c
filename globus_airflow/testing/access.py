"""Collection kinds, access rules and data_access consents of the local Globus service.

The service models three kinds of Globus Connect Server v5 collection:

* ``mapped``: entity_type ``GCSv5_mapped_collection``. Transfer requires the
  dependent scope ``https://auth.globus.org/scopes/<collection id>/data_access``
  under the Transfer scope, and responds with 403 ``ConsentRequired`` without it.
  Access itself comes from the storage gateway's identity mapping, which the
  service does not model: every client may use the collection's files.
* ``high_assurance``: a mapped collection with ``high_assurance: true``. It
  has no data_access scope, as globus-sdk's ``add_app_data_access_scope``
  documents for high-assurance collections.
* ``guest``: entity_type ``GCSv5_guest_collection``. It has no data_access
  scope, and an identity may use only the paths that an access rule gives it.

Globus Auth has a data_access scope only for mapped collections that are not
high assurance, so the token grant rejects any other one as an unknown scope.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from globus_airflow.testing.errors import OAuthError, TransferError
from globus_airflow.testing.paths import PathEscapeError, normalize_globus_path
from globus_airflow.testing.tasks import ItemFault

if TYPE_CHECKING:
    from globus_airflow.testing.state import Collection, ServiceState, TokenRecord
    from globus_airflow.testing.tasks import TaskRecord

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"

COLLECTION_KINDS = ("mapped", "guest", "high_assurance")
"""Kinds accepted by ``add_collection``; ``mapped`` is the default."""

DEFAULT_COLLECTION_KIND = "mapped"

ENTITY_TYPES = {
    "mapped": "GCSv5_mapped_collection",
    "high_assurance": "GCSv5_mapped_collection",
    "guest": "GCSv5_guest_collection",
}

CLIENT_IDENTITY_DOMAIN = "clients.auth.globus.org"

# The message Transfer sends with ConsentRequired for a missing data_access
# consent; globus-cli matches this exact text to choose its advice.
CONSENT_MESSAGE = "Missing required data_access consent"

_DATA_ACCESS_SCOPE = re.compile(
    r"^\*?https://auth\.globus\.org/scopes/([0-9a-fA-F-]{36})/data_access$"
)

PERMISSIONS = ("r", "rw")


@dataclasses.dataclass(frozen=True)
class AccessRule:
    """An access rule of a guest collection: ``identity_id`` may use ``path`` and below.

    ``path`` is a directory path ending in ``/``; ``permissions`` is ``r`` or ``rw``.
    """

    identity_id: str
    path: str
    permissions: str


@dataclasses.dataclass
class AccessControls:
    """Access rules and refused consents, by collection id; guarded by the state lock."""

    rules: dict[str, list[AccessRule]] = dataclasses.field(default_factory=dict)
    refused_consents: set[str] = dataclasses.field(default_factory=set)


def check_kind(kind: str) -> str:
    """Return ``kind`` when it is a known collection kind; raise ValueError otherwise."""
    if kind not in COLLECTION_KINDS:
        raise ValueError(f"unknown collection kind {kind!r}: use one of {', '.join(COLLECTION_KINDS)}")
    return kind


def kind_fields(collection: Collection) -> dict[str, object]:
    """Return the fields of the collection document that depend on the collection's kind."""
    return {
        "entity_type": ENTITY_TYPES[collection.kind],
        "high_assurance": collection.kind == "high_assurance",
    }


def data_access_scope(collection_id: str) -> str:
    """Return the data_access scope of a mapped collection."""
    return f"https://auth.globus.org/scopes/{collection_id}/data_access"


def identity_id_of(identity: str) -> str:
    """Return the identity id of a client given as ``<client id>`` or ``<client id>@clients.auth.globus.org``."""
    return identity.removesuffix(f"@{CLIENT_IDENTITY_DOMAIN}")


def client_identity(identity_id: str) -> str:
    """Return the identity username of a client: ``<client id>@clients.auth.globus.org``."""
    return f"{identity_id}@{CLIENT_IDENTITY_DOMAIN}"


# -- token grant ---------------------------------------------------------------------------


def grant_dependent_scopes(state: ServiceState, dependencies: Iterable[str]) -> tuple[str, ...]:
    """Check the dependent scopes of a Transfer scope request and return those granted.

    Only the data_access scope of a known mapped collection exists. Any other
    dependent scope fails the whole grant with 400 ``invalid_scope``. A scope of
    a collection passed to ``refuse_consent`` is left out of the grant, which
    still succeeds.

    NOTE: the ``error_description`` wording is modelled on the "requested
    unknown scopes" text that Globus Auth shows in the browser. The JSON body
    of its token endpoint for an unknown scope was not checked.
    """
    granted: list[str] = []
    unknown: list[str] = []
    with state.lock:
        for dependency in dependencies:
            match = _DATA_ACCESS_SCOPE.match(dependency)
            collection = state.find_collection(match.group(1).lower()) if match else None
            if collection is None or collection.kind != "mapped":
                unknown.append(dependency.lstrip("*"))
            elif collection.collection_id not in state.access.refused_consents:
                granted.append(dependency)
    if unknown:
        raise OAuthError(400, "invalid_scope", f"requested unknown scopes: {unknown}")
    return tuple(granted)


# -- Transfer checks -----------------------------------------------------------------------


def require_data_access(token: TokenRecord, collections: Iterable[Collection]) -> None:
    """Raise 403 ``ConsentRequired`` unless ``token`` carries the data_access scope of each mapped collection.

    The body has the fields Transfer sends: ``required_scopes`` at the top
    level, where globus-sdk's ``err.info.consent_required`` reads them, and
    again inside ``authorization_parameters``.

    NOTE: with several collections missing, the local service names them all
    in one required scope. Whether Transfer does the same, or names only the
    first, was not checked.
    """
    consented = {scope.lstrip("*") for scope in token.dependent_scopes}
    missing: list[str] = []
    for collection in collections:
        scope = data_access_scope(collection.collection_id)
        if collection.kind == "mapped" and scope not in consented and scope not in missing:
            missing.append(scope)
    if not missing:
        return

    dependencies = " ".join(f"*{scope}" for scope in missing)
    required_scopes = [f"{TRANSFER_SCOPE}[{dependencies}]"]
    raise TransferError(
        403,
        "ConsentRequired",
        CONSENT_MESSAGE,
        extra={
            "required_scopes": required_scopes,
            "authorization_parameters": {
                "session_message": CONSENT_MESSAGE,
                "required_scopes": required_scopes,
            },
        },
    )


def require_task_data_access(state: ServiceState, token: TokenRecord, task: TaskRecord) -> None:
    """Raise 403 ``ConsentRequired`` unless ``token`` may submit ``task`` (see :func:`require_data_access`)."""
    collection_ids = [task.source_endpoint_id, task.destination_endpoint_id]
    collections = [state.find_collection(collection_id) for collection_id in collection_ids if collection_id]
    require_data_access(token, [collection for collection in collections if collection is not None])


def require_operation_access(state: ServiceState, token: TokenRecord, collection: Collection, globus_path: str, *, write: bool) -> None:
    """Check an ls, mkdir or stat: the data_access consent first, then the guest collection's access rules."""
    require_data_access(token, [collection])
    require_path_access(state, token.client_id, collection, globus_path, write=write)


def has_path_access(state: ServiceState, identity_id: str, collection: Collection, globus_path: str, *, write: bool) -> bool:
    """Return whether an identity may read (or, with ``write``, write) a path of a collection.

    Mapped and high-assurance collections allow every path. A guest collection
    needs an access rule for the identity on the path or a parent directory,
    with ``rw`` permissions to write. A path that climbs above the root
    matches no rule.
    """
    if collection.kind != "guest":
        return True
    try:
        target = normalize_globus_path(globus_path, directory=True)
    except PathEscapeError:
        return False

    with state.lock:
        rules = list(state.access.rules.get(collection.collection_id, ()))
    for rule in rules:
        if rule.identity_id != identity_id or not target.startswith(rule.path):
            continue
        if not write or "w" in rule.permissions:
            return True
    return False


def denial_description(identity_id: str, collection: Collection, globus_path: str, *, write: bool) -> str:
    """Describe a denied path and the access rule that would allow it."""
    needed = "rw" if write else "r"
    return (
        f"no access rule on guest collection {collection.name} ({collection.collection_id}) "
        f"gives {client_identity(identity_id)} '{needed}' permissions on {globus_path}"
    )


def require_path_access(state: ServiceState, identity_id: str, collection: Collection, globus_path: str, *, write: bool) -> None:
    """Raise 403 ``EndpointPermissionDenied`` unless the identity may use the path.

    NOTE: the code follows globus-sdk's canned "Denied by endpoint" stat
    response. The exact code and text that Transfer sends for a guest
    collection without an access rule were not checked.
    """
    if not has_path_access(state, identity_id, collection, globus_path, write=write):
        description = denial_description(identity_id, collection, globus_path, write=write)
        raise TransferError(403, "EndpointPermissionDenied", f"Denied by endpoint: {description}")


def check_task_path(state: ServiceState, identity_id: str, collection: Collection, globus_path: str, *, write: bool, on_source: bool) -> None:
    """Raise a retryable PERMISSION_DENIED fault when a task's owner may not use the path.

    As on Globus, the task stays ACTIVE and retries the fault, so an access
    rule added later lets it go on.
    """
    if not has_path_access(state, identity_id, collection, globus_path, write=write):
        description = "permission denied: " + denial_description(identity_id, collection, globus_path, write=write)
        raise ItemFault("PERMISSION_DENIED", description, path=globus_path, on_source=on_source)


# -- controls ------------------------------------------------------------------------------


def add_access_rule(state: ServiceState, collection: Collection, *, identity: str, path: str, permissions: str) -> AccessRule:
    """Add an access rule to a guest collection and return it; raise ValueError for bad input."""
    if collection.kind != "guest":
        raise ValueError(
            f"collection {collection.name!r} is a {collection.kind} collection: access rules "
            "exist on guest collections only"
        )
    if permissions not in PERMISSIONS:
        raise ValueError(f"permissions must be 'r' or 'rw', got {permissions!r}")
    try:
        rule_path = normalize_globus_path(path, directory=True)
    except PathEscapeError as error:
        raise ValueError(f"invalid access rule path {path!r}: {error.reason}") from error

    rule = AccessRule(identity_id=identity_id_of(identity), path=rule_path, permissions=permissions)
    with state.lock:
        state.access.rules.setdefault(collection.collection_id, []).append(rule)
        state.notify()
    return rule


def refuse_consent(state: ServiceState, collection: Collection) -> None:
    """Leave the collection's data_access scope out of every later token grant."""
    if collection.kind != "mapped":
        raise ValueError(
            f"collection {collection.name!r} is a {collection.kind} collection, which has no "
            "data_access scope to refuse"
        )
    with state.lock:
        state.access.refused_consents.add(collection.collection_id)
        state.notify()
