"""Transfer API v0.10 collection routes: endpoint document, ls, mkdir and stat.

Paths go through :func:`globus_airflow.testing.paths.resolve_path`, so these
routes never touch anything outside a collection's directory.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request

from globus_airflow.testing.access import kind_fields, require_operation_access
from globus_airflow.testing.auth_api import authenticate_bearer, authenticate_token
from globus_airflow.testing.documents import endpoint_document, file_document, result_document
from globus_airflow.testing.errors import TransferError
from globus_airflow.testing.paths import (
    PathEscapeError,
    is_within,
    normalize_globus_path,
    resolve_path,
    split_globus_path,
)
from globus_airflow.testing.state import Collection, ServiceState
from globus_airflow.testing.submissions import bad_request
from globus_airflow.testing.transfer_api import parse_int

logger = logging.getLogger(__name__)

MAX_LS_LIMIT = 100_000
LS_SORT_FIELDS = frozenset({"name", "type", "size", "last_modified", "permissions", "user", "group"})


def _flag(value: str | None, *, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise bad_request(f"{name} must be 1 or 0, got {value!r}")


def _entry_matches(entry: dict[str, Any], filter_text: str | None) -> bool:
    """Apply an ls ``filter``: ``name:~glob``, ``name:=exact``, ``name:a,b`` or ``type:file,dir``."""
    if not filter_text:
        return True
    for clause in filter_text.split("/"):
        if not clause:
            continue
        field, separator, value = clause.partition(":")
        if not separator:
            raise bad_request(f"filter clause {clause!r} must look like field:value")
        if field == "name":
            if value.startswith("~"):
                matched = fnmatch.fnmatchcase(entry["name"], value[1:])
            elif value.startswith("="):
                matched = entry["name"] == value[1:]
            else:
                matched = entry["name"] in value.split(",")
            if not matched:
                return False
        elif field == "type":
            if entry["type"] not in value.split(","):
                return False
        else:
            raise bad_request(f"unsupported ls filter field {field!r}: use name or type")
    return True


def _sort_entries(entries: list[dict[str, Any]], orderby: str | None) -> list[dict[str, Any]]:
    ordered = sorted(entries, key=lambda entry: entry["name"])
    terms = [term.split() for term in (orderby or "").split(",") if term.strip()]
    for term in reversed(terms):
        field = term[0]
        direction = term[1].upper() if len(term) > 1 else "ASC"
        if field not in LS_SORT_FIELDS or direction not in ("ASC", "DESC") or len(term) > 2:
            raise bad_request(f"invalid orderby term {' '.join(term)!r}")
        ordered.sort(key=lambda entry: entry[field], reverse=direction == "DESC")
    return ordered


def _path_not_allowed(collection: Collection, globus_path: str, error: PathEscapeError) -> TransferError:
    # NOTE: Transfer reports paths a collection refuses as 403 EndpointPermissionDenied
    # (see globus-sdk's canned operation_stat "permission_denied"); the message is local.
    return TransferError(
        403,
        "EndpointPermissionDenied",
        f"Denied by endpoint: path {globus_path!r} is not allowed on collection {collection.name} "
        f"({collection.collection_id}): {error.reason}",
    )


def build_operations_router(state: ServiceState) -> APIRouter:
    """Build the collection routes, to be mounted at ``/transfer/v0.10``."""
    router = APIRouter()

    def require_identity(request: Request) -> str:
        return authenticate_bearer(state, request.headers.get("authorization"))

    def collection_for(endpoint_id: str) -> Collection:
        collection = state.find_collection(endpoint_id)
        if collection is None:
            raise TransferError(404, "EndpointNotFound", f"No such endpoint or collection: '{endpoint_id}'")
        return collection

    def resolve(collection: Collection, globus_path: str) -> Path:
        try:
            return resolve_path(collection.root, globus_path)
        except PathEscapeError as error:
            raise _path_not_allowed(collection, globus_path, error) from error

    @router.get("/endpoint/{endpoint_id}")
    def get_endpoint(endpoint_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Return the collection document."""
        collection = collection_for(endpoint_id)
        return {**endpoint_document(collection, base_url=state.base_url), **kind_fields(collection)}

    @router.get("/operation/endpoint/{endpoint_id}/ls")
    def ls(request: Request, endpoint_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """List a directory; ``path`` defaults to the root, hidden names are shown by default."""
        collection = collection_for(endpoint_id)
        query = request.query_params
        globus_path = query.get("path") or "/~/"
        require_operation_access(state, authenticate_token(state, request.headers.get("authorization")), collection, globus_path, write=False)
        show_hidden = _flag(query.get("show_hidden"), name="show_hidden", default=True)
        limit = parse_int(query.get("limit"), name="limit", default=MAX_LS_LIMIT, maximum=MAX_LS_LIMIT)
        offset = parse_int(query.get("offset"), name="offset", default=0)
        directory = resolve(collection, globus_path)
        display_path = normalize_globus_path(globus_path, directory=True)

        try:
            names = os.listdir(directory)
        except FileNotFoundError as error:
            raise TransferError(404, "ClientError.NotFound", f"Directory '{display_path}' not found") from error
        except NotADirectoryError as error:
            raise TransferError(
                502, "ExternalError.DirListingFailed.NotDirectory", f"Path '{display_path}' is not a directory"
            ) from error
        except PermissionError as error:
            raise TransferError(403, "EndpointPermissionDenied", f"Permission denied listing '{display_path}'") from error

        entries = []
        for name in names:
            if not show_hidden and name.startswith("."):
                continue
            path = directory / name
            try:
                follow = not path.is_symlink() or is_within(collection.root, Path(os.path.realpath(path)))
                entry = file_document(path, name=name, follow_link=follow)
            except FileNotFoundError:
                continue  # removed while listing
            if _entry_matches(entry, query.get("filter")):
                entries.append(entry)

        ordered = _sort_entries(entries, query.get("orderby"))
        page = ordered[offset : offset + limit]
        return {
            "DATA_TYPE": "file_list",
            "DATA": page,
            "path": display_path,
            "absolute_path": display_path,
            "endpoint": collection.collection_id,
            "length": len(page),
            "total": len(ordered),
            "rename_supported": True,
            "symlink_supported": False,
        }

    @router.post("/operation/endpoint/{endpoint_id}/mkdir")
    async def mkdir(request: Request, endpoint_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Create one directory; its parent must exist."""
        collection = collection_for(endpoint_id)
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise bad_request(f"the request body is not valid JSON: {error}") from error
        globus_path = body.get("path") if isinstance(body, dict) else None
        if not isinstance(globus_path, str) or not globus_path:
            raise bad_request("path is required")
        require_operation_access(state, authenticate_token(state, request.headers.get("authorization")), collection, globus_path, write=True)
        path = resolve(collection, globus_path)

        try:
            path.mkdir()
        except FileExistsError as error:
            raise TransferError(
                502, "ExternalError.MkdirFailed.Exists", f"Path already exists, Error (mkdir)\nPath: {globus_path}"
            ) from error
        except FileNotFoundError as error:
            # NOTE: the code for a missing parent directory is a guess.
            raise TransferError(404, "ClientError.NotFound", f"Parent directory of '{globus_path}' not found") from error
        except PermissionError as error:
            raise TransferError(403, "EndpointPermissionDenied", f"Permission denied creating '{globus_path}'") from error
        logger.info("mkdir %s on collection %s", globus_path, collection.name)
        return result_document(
            data_type="mkdir_result",
            code="DirectoryCreated",
            message="The directory was created successfully",
            resource=f"/v0.10/operation/endpoint/{endpoint_id}/mkdir",
        )

    @router.get("/operation/endpoint/{endpoint_id}/stat")
    def stat_path(request: Request, endpoint_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Describe one file or directory; a missing path is 404 ``NotFound``."""
        collection = collection_for(endpoint_id)
        globus_path = request.query_params.get("path")
        if not globus_path:
            raise bad_request("path is required")
        require_operation_access(state, authenticate_token(state, request.headers.get("authorization")), collection, globus_path, write=False)
        path = resolve(collection, globus_path)
        try:
            os.lstat(path)
        except FileNotFoundError as error:
            raise TransferError(404, "NotFound", f"Path not found, Error (list)\nPath: {globus_path}") from error
        except PermissionError as error:
            raise TransferError(403, "EndpointPermissionDenied", f"Permission denied on '{globus_path}'") from error

        # resolve() already followed every symlink and kept the result inside the root.
        segments = split_globus_path(globus_path)
        name = segments[-1] if segments else "/"
        return file_document(path, name=name)

    return router
