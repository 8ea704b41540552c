"""Validation of ``POST /transfer`` and ``POST /delete`` bodies into new task records.

Every rejected field raises TransferError 400 ``ClientError.BadRequest`` (or
``ClientError.BadRequest.NoTransferItems``) naming the field, and an unknown
collection raises 404 ``EndpointNotFound``, so globus-sdk callers get a
TransferAPIError with ``code`` and ``http_status`` set.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from globus_airflow.testing.checksums import normalize_algorithm
from globus_airflow.testing.errors import TransferError
from globus_airflow.testing.state import Collection, ServiceState
from globus_airflow.testing.tasks import DeleteItemSpec, FilterRule, TaskRecord, TransferItemSpec

MAX_LABEL_LENGTH = 128
DEFAULT_DEADLINE_SECONDS = 24 * 3600
SYNC_LEVEL_NAMES = {"exists": 0, "size": 1, "mtime": 2, "checksum": 3}


def bad_request(message: str, *, code: str = "ClientError.BadRequest") -> TransferError:
    """Return the 400 error for an invalid submission field."""
    return TransferError(400, code, message)


def _boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false, got {value!r}")
    return value


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string, got {value!r}")
    return value


def parse_label(value: Any) -> str | None:
    """Validate a task label: a string of at most 128 characters, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"label must be a string, got {value!r}")
    if len(value) > MAX_LABEL_LENGTH:
        raise bad_request(f"label is {len(value)} characters long; the maximum is {MAX_LABEL_LENGTH}")
    if any(ord(character) < 32 for character in value):
        raise bad_request("label must not contain control characters")
    return value


def parse_deadline(value: Any, *, now: float) -> float:
    """Parse an ISO 8601 deadline (naive means UTC) into epoch seconds; None means 24 h ahead."""
    if value is None:
        return now + DEFAULT_DEADLINE_SECONDS
    if not isinstance(value, str):
        raise bad_request(f"deadline must be an ISO 8601 date and time string, got {value!r}")
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise bad_request(f"deadline {value!r} is not an ISO 8601 date and time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    deadline = moment.timestamp()
    if deadline <= now:
        # NOTE: Transfer's exact error for a deadline in the past was not checked.
        raise bad_request(f"deadline {value!r} is in the past")
    return deadline


def parse_sync_level(value: Any) -> int | None:
    """Accept 0-3 or the names exists, size, mtime and checksum; None means no sync."""
    if value is None:
        return None
    if isinstance(value, str) and value in SYNC_LEVEL_NAMES:
        return SYNC_LEVEL_NAMES[value]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
        return value
    raise bad_request(f"sync_level must be 0, 1, 2 or 3, got {value!r}")


def parse_filter_rules(value: Any) -> list[FilterRule] | None:
    """Validate ``filter_rules``: a list of {method, name, type?} documents."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request("filter_rules must be a list of filter_rule documents")
    rules = []
    for index, raw in enumerate(value):
        if not isinstance(raw, dict):
            raise bad_request(f"filter_rules[{index}] must be a filter_rule document")
        method = raw.get("method", "exclude")
        name = raw.get("name")
        rule_type = raw.get("type")
        if method not in ("include", "exclude"):
            raise bad_request(f"filter_rules[{index}].method must be 'include' or 'exclude', got {method!r}")
        if not isinstance(name, str) or not name:
            raise bad_request(f"filter_rules[{index}].name must be a non-empty pattern")
        if rule_type not in (None, "file", "dir"):
            raise bad_request(f"filter_rules[{index}].type must be 'file' or 'dir', got {rule_type!r}")
        rules.append(FilterRule(method=method, name=name, type=rule_type))
    return rules


def _collection(state: ServiceState, endpoint_id: Any, field: str) -> Collection:
    if not isinstance(endpoint_id, str) or not endpoint_id:
        raise bad_request(f"{field} is required")
    collection = state.find_collection(endpoint_id)
    if collection is None:
        raise TransferError(404, "EndpointNotFound", f"No such endpoint or collection: '{endpoint_id}'")
    return collection


def _items(body: dict[str, Any], *, data_type: str, no_items_code: str, no_items_message: str) -> list[dict[str, Any]]:
    items = body.get("DATA")
    if items is None or items == []:
        raise bad_request(no_items_message, code=no_items_code)
    if not isinstance(items, list):
        raise bad_request("DATA must be a list of items")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad_request(f"DATA[{index}] must be a {data_type} document")
        if item.get("DATA_TYPE", data_type) != data_type:
            raise bad_request(f"DATA[{index}].DATA_TYPE {item.get('DATA_TYPE')!r} is not supported here; use {data_type!r}")
    return items


def _transfer_item(index: int, raw: dict[str, Any]) -> TransferItemSpec:
    source_path = raw.get("source_path")
    destination_path = raw.get("destination_path")
    if not isinstance(source_path, str) or not source_path:
        raise bad_request(f"DATA[{index}].source_path is required")
    if not isinstance(destination_path, str) or not destination_path:
        raise bad_request(f"DATA[{index}].destination_path is required")

    recursive = raw.get("recursive")
    if recursive is not None and not isinstance(recursive, bool):
        raise bad_request(f"DATA[{index}].recursive must be true, false or absent")

    external_checksum = raw.get("external_checksum")
    if external_checksum is not None and not isinstance(external_checksum, str):
        raise bad_request(f"DATA[{index}].external_checksum must be a string")
    algorithm = raw.get("checksum_algorithm")
    if algorithm is not None:
        try:
            normalize_algorithm(algorithm)
        except ValueError as error:
            raise bad_request(f"DATA[{index}]: {error}") from error
    if external_checksum is not None and recursive is True:
        raise bad_request(f"DATA[{index}].external_checksum cannot be used with a directory")

    return TransferItemSpec(
        source_path=source_path,
        destination_path=destination_path,
        recursive=recursive,
        external_checksum=external_checksum,
        checksum_algorithm=algorithm,
    )


def _notify_options(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "notify_on_succeeded": _boolean(body, "notify_on_succeeded", True),
        "notify_on_failed": _boolean(body, "notify_on_failed", True),
        "notify_on_inactive": _boolean(body, "notify_on_inactive", True),
    }


def build_transfer_task(state: ServiceState, body: dict[str, Any], *, owner_id: str, submission_id: str) -> TaskRecord:
    """Validate a ``transfer`` document and return the new task, not yet stored."""
    if body.get("DATA_TYPE", "transfer") != "transfer":
        raise bad_request(f"DATA_TYPE must be 'transfer', got {body.get('DATA_TYPE')!r}")
    source = _collection(state, body.get("source_endpoint"), "source_endpoint")
    destination = _collection(state, body.get("destination_endpoint"), "destination_endpoint")
    raw_items = _items(
        body,
        data_type="transfer_item",
        no_items_code="ClientError.BadRequest.NoTransferItems",
        no_items_message="A transfer requires at least one item",
    )
    items = [_transfer_item(index, raw) for index, raw in enumerate(raw_items)]

    options: dict[str, Any] = {
        "sync_level": parse_sync_level(body.get("sync_level")),
        "verify_checksum": _boolean(body, "verify_checksum", False),
        "preserve_timestamp": _boolean(body, "preserve_timestamp", False),
        "encrypt_data": _boolean(body, "encrypt_data", False),
        "skip_source_errors": _boolean(body, "skip_source_errors", False),
        "fail_on_quota_errors": _boolean(body, "fail_on_quota_errors", False),
        "delete_destination_extra": _boolean(body, "delete_destination_extra", False),
        "source_local_user": _optional_string(body, "source_local_user"),
        "destination_local_user": _optional_string(body, "destination_local_user"),
        **_notify_options(body),
    }
    return _new_task(
        state,
        body,
        task_type="TRANSFER",
        owner_id=owner_id,
        submission_id=submission_id,
        source_endpoint_id=source.collection_id,
        source_display_name=source.name,
        destination_endpoint_id=destination.collection_id,
        destination_display_name=destination.name,
        transfer_items=items,
        filter_rules=parse_filter_rules(body.get("filter_rules")),
        options=options,
    )


def build_delete_task(state: ServiceState, body: dict[str, Any], *, owner_id: str, submission_id: str) -> TaskRecord:
    """Validate a ``delete`` document and return the new task, not yet stored."""
    if body.get("DATA_TYPE", "delete") != "delete":
        raise bad_request(f"DATA_TYPE must be 'delete', got {body.get('DATA_TYPE')!r}")
    collection = _collection(state, body.get("endpoint"), "endpoint")
    # NOTE: the code for a delete without items is a guess modelled on NoTransferItems.
    raw_items = _items(
        body,
        data_type="delete_item",
        no_items_code="ClientError.BadRequest.NoDeleteItems",
        no_items_message="A delete requires at least one item",
    )
    items = []
    for index, raw in enumerate(raw_items):
        path = raw.get("path")
        if not isinstance(path, str) or not path:
            raise bad_request(f"DATA[{index}].path is required")
        items.append(DeleteItemSpec(path=path))

    options: dict[str, Any] = {
        "recursive": _boolean(body, "recursive", False),
        "ignore_missing": _boolean(body, "ignore_missing", False),
        "interpret_globs": _boolean(body, "interpret_globs", False),
        "local_user": _optional_string(body, "local_user"),
        **_notify_options(body),
    }
    return _new_task(
        state,
        body,
        task_type="DELETE",
        owner_id=owner_id,
        submission_id=submission_id,
        source_endpoint_id=collection.collection_id,
        source_display_name=collection.name,
        destination_endpoint_id=None,
        destination_display_name=None,
        delete_items=items,
        options=options,
    )


def _new_task(
    state: ServiceState,
    body: dict[str, Any],
    *,
    task_type: str,
    owner_id: str,
    submission_id: str,
    **fields: Any,
) -> TaskRecord:
    """Return a task with the fields every task type shares, plus ``fields``."""
    now = state.now()
    return TaskRecord(
        task_id=str(uuid.uuid4()),
        type=task_type,
        owner_id=owner_id,
        submission_id=submission_id,
        sequence=state.next_sequence(),
        request_time=now,
        deadline=parse_deadline(body.get("deadline"), now=now),
        label=parse_label(body.get("label")),
        **fields,
    )
