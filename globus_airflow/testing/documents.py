"""JSON documents of the local Globus service, shaped as Globus Transfer v0.10 returns them.

Field sets follow globus-sdk's canned responses in ``globus_sdk.testing`` (checked
by ``tests/testing/test_canned_shapes.py``). Where no canned response exists, the
shape follows the Transfer API documentation and says so at the spot.
"""

from __future__ import annotations

import datetime
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from globus_airflow.testing.state import Collection
from globus_airflow.testing.tasks import EventRecord, TaskRecord


def format_time(timestamp: float | None) -> str | None:
    """Format epoch seconds as Transfer does in task documents: ``2026-12-04T20:01:02+00:00``."""
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def format_file_time(timestamp: float) -> str:
    """Format epoch seconds as Transfer does in ls and stat: ``2023-12-18 16:52:50+00:00``."""
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
    return moment.isoformat(sep=" ", timespec="seconds")


def new_request_id() -> str:
    """Return a random request id like the ones Transfer puts in results and errors."""
    return secrets.token_urlsafe(7)[:9]


def error_body(*, code: str, message: str, resource: str) -> dict[str, Any]:
    """Build a Transfer error document, which globus-sdk turns into TransferAPIError."""
    return {
        "code": code,
        "message": message,
        "request_id": new_request_id(),
        "resource": resource,
    }


def _nice_status(task: TaskRecord) -> str | None:
    interruption = task.interruption
    return interruption.nice_status if interruption is not None else task.nice_status


def _nice_status_details(task: TaskRecord) -> str | None:
    interruption = task.interruption
    if interruption is None:
        return task.nice_status_details
    if interruption.path is None:
        return interruption.description
    return f"{interruption.description}: {interruption.path}"


def _nice_status_description(task: TaskRecord) -> str | None:
    interruption = task.interruption
    if interruption is not None:
        return interruption.description
    if task.nice_status is None:
        return None
    if task.nice_status in ("OK", "Queued"):
        return task.nice_status
    return task.nice_status.replace("_", " ").lower()


def _is_ok(task: TaskRecord) -> bool | None:
    # Transfer reports is_ok only while a task is ACTIVE: false while it retries a fault.
    if task.is_finished:
        return None
    if task.interruption is not None:
        return False
    return task.nice_status in ("OK", "Queued")


def _effective_bytes_per_second(task: TaskRecord, now: float) -> int:
    if task.started_at is None:
        return 0
    end = task.completion_time if task.completion_time is not None else now
    elapsed = max(end - task.started_at, 1.0)
    return int(task.bytes_transferred / elapsed)


def task_document(task: TaskRecord, *, now: float) -> dict[str, Any]:
    """Build the task document of ``GET /task/{id}`` and of each ``task_list`` entry.

    The fields are those of the canned ``endpoint_manager_task_list`` entry, a
    superset of the ``task_list`` one. Call with the state lock held.
    """
    options = task.options
    filter_rules = None
    if task.filter_rules is not None:
        filter_rules = [
            {"DATA_TYPE": "filter_rule", "method": rule.method, "name": rule.name, "type": rule.type}
            for rule in task.filter_rules
        ]

    source_name = f"{task.source_display_name}#{task.source_endpoint_id}"
    destination_name = None
    if task.destination_endpoint_id is not None:
        destination_name = f"{task.destination_display_name}#{task.destination_endpoint_id}"

    return {
        "DATA_TYPE": "task",
        "task_id": task.task_id,
        "type": task.type,
        "status": task.status,
        "label": task.label,
        "owner_id": task.owner_id,
        "owner_string": f"{task.owner_id}@clients.auth.globus.org",
        "username": f"u_{task.owner_id.replace('-', '')[:26]}",
        "command": "API 0.10",
        "request_time": format_time(task.request_time),
        "completion_time": format_time(task.completion_time),
        "deadline": format_time(task.deadline),
        "nice_status": _nice_status(task),
        "nice_status_details": _nice_status_details(task),
        "nice_status_expires_in": None,
        "nice_status_short_description": _nice_status_description(task),
        "is_ok": _is_ok(task),
        "is_paused": task.admin_pause is not None and not task.is_finished,
        "fatal_error": task.fatal_error,
        "canceled_by_admin": task.canceled_by_admin,
        "canceled_by_admin_message": task.canceled_by_admin_message,
        "history_deleted": False,
        "source_endpoint": source_name,
        "source_endpoint_id": task.source_endpoint_id,
        "source_endpoint_display_name": task.source_display_name,
        "destination_endpoint": destination_name,
        "destination_endpoint_id": task.destination_endpoint_id,
        "destination_endpoint_display_name": task.destination_display_name,
        "source_base_path": None,
        "destination_base_path": None,
        "source_host_endpoint": None,
        "source_host_endpoint_display_name": None,
        "source_host_endpoint_id": None,
        "source_host_path": None,
        "destination_host_endpoint": None,
        "destination_host_endpoint_display_name": None,
        "destination_host_endpoint_id": None,
        "destination_host_path": None,
        "source_mapped_collection_display_name": None,
        "source_mapped_collection_id": None,
        "destination_mapped_collection_display_name": None,
        "destination_mapped_collection_id": None,
        "source_local_user": options.get("source_local_user"),
        "source_local_user_status": None,
        "destination_local_user": options.get("destination_local_user"),
        "destination_local_user_status": None,
        "files": task.files,
        "directories": task.directories,
        "symlinks": task.symlinks,
        "files_transferred": task.files_transferred,
        "files_skipped": task.files_skipped,
        "bytes_transferred": task.bytes_transferred,
        "bytes_checksummed": task.bytes_checksummed,
        "effective_bytes_per_second": _effective_bytes_per_second(task, now),
        "faults": task.faults,
        "subtasks_total": task.subtasks_total,
        "subtasks_pending": task.subtasks_pending,
        "subtasks_retrying": task.subtasks_retrying,
        "subtasks_succeeded": task.subtasks_succeeded,
        "subtasks_failed": task.subtasks_failed,
        "subtasks_canceled": task.subtasks_canceled,
        "subtasks_expired": task.subtasks_expired,
        "subtasks_skipped_errors": task.subtasks_skipped_errors,
        "sync_level": options.get("sync_level"),
        "verify_checksum": options.get("verify_checksum", False),
        "encrypt_data": options.get("encrypt_data", False),
        "preserve_timestamp": options.get("preserve_timestamp", False),
        "skip_source_errors": options.get("skip_source_errors", False),
        "fail_on_quota_errors": options.get("fail_on_quota_errors", False),
        "delete_destination_extra": options.get("delete_destination_extra", False),
        "recursive_symlinks": "ignore",
        "filter_rules": filter_rules,
        # Fields Transfer documents for tasks but the canned entries leave out.
        "notify_on_succeeded": options.get("notify_on_succeeded", True),
        "notify_on_failed": options.get("notify_on_failed", True),
        "notify_on_inactive": options.get("notify_on_inactive", True),
        "local_user": options.get("local_user"),
        "recursive": options.get("recursive"),
        "ignore_missing": options.get("ignore_missing"),
        "interpret_globs": options.get("interpret_globs"),
    }


def event_document(event: EventRecord) -> dict[str, Any]:
    """Build one entry of ``GET /task/{id}/event_list``.

    NOTE: no canned response exists; the shape follows the Transfer API
    documentation of the event document.
    """
    return {
        "DATA_TYPE": "event",
        "code": event.code,
        "description": event.description,
        "details": event.details,
        "is_error": event.is_error,
        "time": format_time(event.time),
    }


def endpoint_document(collection: Collection, *, base_url: str) -> dict[str, Any]:
    """Build the collection document of ``GET /endpoint/{id}``.

    NOTE: real GCSv5 collections list no GridFTP servers in ``DATA``. The single
    server entry here points at the local service so that the document has
    every field of the canned response.
    """
    return {
        "DATA_TYPE": "endpoint",
        "id": collection.collection_id,
        "display_name": collection.name,
        "canonical_name": f"local#{collection.name}",
        "organization": "airflow-provider-globus local service",
        "username": "local",
        "owner_string": "local@globus_airflow.testing",
        "description": "Local directory served by globus_airflow.testing",
        "entity_type": "GCSv5_mapped_collection",
        "gcs_version": "5.4.0",
        "public": False,
        "french_english_bilingual": False,
        "is_globus_connect": False,
        "globus_connect_setup_key": None,
        "gcp_connected": None,
        "gcp_paused": None,
        "s3_url": None,
        "s3_owner_activated": False,
        "host_endpoint_id": None,
        "host_path": None,
        "disable_verify": False,
        "disable_anonymous_writes": False,
        "force_verify": False,
        "force_encryption": False,
        "high_assurance": False,
        "mfa_required": False,
        "myproxy_server": None,
        "myproxy_dn": None,
        "non_functional": False,
        "non_functional_endpoint_display_name": None,
        "non_functional_endpoint_id": None,
        "oauth_server": None,
        "default_directory": "/",
        "activated": True,
        "expires_in": -1,
        "expire_time": None,
        "shareable": False,
        "acl_available": False,
        "acl_editable": False,
        "in_use": False,
        "DATA": [
            {
                "DATA_TYPE": "server",
                "hostname": "127.0.0.1",
                "uri": base_url,
                "port": None,
                "scheme": "https",
                "id": 1,
                "subject": None,
            }
        ],
    }


def file_document(path: Path, *, name: str, follow_link: bool = True) -> dict[str, Any]:
    """Build a ``file`` document for ls and stat from ``os.lstat`` of ``path``.

    A symlink is described by its target, with the ``link_*`` fields describing
    the link itself. A symlink whose target is missing, or that the caller may
    not follow (``follow_link=False``), gets type ``invalid_symlink``.
    """
    link_info = os.lstat(path)
    is_link = stat.S_ISLNK(link_info.st_mode)
    info = link_info
    entry_type = "file"
    if is_link and not follow_link:
        entry_type = "invalid_symlink"
    elif is_link:
        try:
            info = os.stat(path)
        except OSError:
            entry_type = "invalid_symlink"
    if entry_type != "invalid_symlink":
        entry_type = "dir" if stat.S_ISDIR(info.st_mode) else "file"

    return {
        "DATA_TYPE": "file",
        "name": name,
        "type": entry_type,
        "size": info.st_size,
        "last_modified": format_file_time(info.st_mtime),
        "permissions": format(stat.S_IMODE(info.st_mode), "04o"),
        "user": _owner_name(info.st_uid),
        "group": _group_name(info.st_gid),
        "link_target": os.readlink(path) if is_link else None,
        "link_size": link_info.st_size if is_link else None,
        "link_last_modified": format_file_time(link_info.st_mtime) if is_link else None,
        "link_user": _owner_name(link_info.st_uid) if is_link else None,
        "link_group": _group_name(link_info.st_gid) if is_link else None,
    }


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def submission_result(*, task_type: str, code: str, task_id: str, submission_id: str) -> dict[str, Any]:
    """Build the result of ``POST /transfer`` or ``POST /delete``."""
    if code == "Accepted":
        message = (
            f"The {task_type.lower()} has been accepted and a task has been created "
            "and queued for execution"
        )
    else:
        message = f"A {task_type.lower()} with id '{submission_id}' was already submitted"
    resource = "/v0.10/transfer" if task_type == "TRANSFER" else "/v0.10/delete"
    return {
        "DATA_TYPE": f"{task_type.lower()}_result",
        "code": code,
        "message": message,
        "request_id": new_request_id(),
        "resource": resource,
        "submission_id": submission_id,
        "task_id": task_id,
        "task_link": {
            "DATA_TYPE": "link",
            "href": f"/v0.10/task/{task_id}?format=json",
            "rel": "related",
            "resource": "task",
            "title": "related task",
        },
    }


def result_document(*, data_type: str, code: str, message: str, resource: str) -> dict[str, Any]:
    """Build a plain Transfer result, such as the responses of cancel and mkdir."""
    return {
        "DATA_TYPE": data_type,
        "code": code,
        "message": message,
        "request_id": new_request_id(),
        "resource": resource,
    }
