"""Build Globus task documents from checked operator arguments."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import globus_sdk

NOTIFY_OPTIONS = ("notify_on_succeeded", "notify_on_failed", "notify_on_inactive")

TRANSFER_OPTIONS = (
    "sync_level",
    "verify_checksum",
    "preserve_timestamp",
    "encrypt_data",
    "skip_source_errors",
    "fail_on_quota_errors",
    "delete_destination_extra",
    "source_local_user",
    "destination_local_user",
    *NOTIFY_OPTIONS,
)
"""TransferData keyword arguments passed through unchanged when set."""


def resolve_deadline(
    deadline: datetime.datetime | datetime.timedelta | None,
    *,
    now: datetime.datetime | None = None,
) -> str | None:
    """Turn a deadline into the ISO 8601 UTC string that Transfer expects.

    A timedelta counts from ``now``, the current time by default.
    """
    if deadline is None:
        return None
    if isinstance(deadline, datetime.timedelta):
        now = now or datetime.datetime.now(datetime.timezone.utc)
        deadline = now + deadline
    return deadline.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


def build_transfer_data(
    *,
    source_endpoint: str,
    destination_endpoint: str,
    items: Sequence[Mapping[str, Any]],
    label: str | None,
    deadline: datetime.datetime | datetime.timedelta | None,
    filter_rules: Sequence[Mapping[str, Any]] | None,
    submission_id: str | None = None,
    options: Mapping[str, Any],
) -> globus_sdk.TransferData:
    """Build a :class:`globus_sdk.TransferData` from checked values.

    :param items: dicts with ``source_path``, ``destination_path`` and optional
        ``recursive``, ``external_checksum`` and ``checksum_algorithm``
    :param options: values for the names in :data:`TRANSFER_OPTIONS`; ``None``
        leaves a field out so that Globus applies its own default
    """
    kwargs = {name: value for name, value in options.items() if value is not None}
    unknown = set(kwargs) - set(TRANSFER_OPTIONS)
    if unknown:
        raise TypeError(f"unknown transfer options: {sorted(unknown)}")

    task_fields = {
        "label": label,
        "submission_id": submission_id,
        "deadline": resolve_deadline(deadline),
    }
    kwargs.update({name: value for name, value in task_fields.items() if value is not None})
    data = globus_sdk.TransferData(
        source_endpoint=source_endpoint,
        destination_endpoint=destination_endpoint,
        **kwargs,
    )

    for item in items:
        item_kwargs = {
            key: item[key]
            for key in ("recursive", "external_checksum", "checksum_algorithm")
            if item.get(key) is not None
        }
        data.add_item(item["source_path"], item["destination_path"], **item_kwargs)

    for rule in filter_rules or ():
        rule_kwargs = {key: rule[key] for key in ("method", "type") if rule.get(key) is not None}
        data.add_filter_rule(rule["name"], **rule_kwargs)

    return data


DELETE_OPTIONS = (
    "recursive",
    "ignore_missing",
    "interpret_globs",
    "local_user",
    *NOTIFY_OPTIONS,
)
"""DeleteData keyword arguments passed through unchanged when set."""


def build_delete_data(
    *,
    endpoint: str,
    paths: Sequence[str],
    label: str | None,
    deadline: datetime.datetime | datetime.timedelta | None,
    submission_id: str | None = None,
    options: Mapping[str, Any],
) -> globus_sdk.DeleteData:
    """Build a :class:`globus_sdk.DeleteData` from checked values.

    :param options: values for the names in :data:`DELETE_OPTIONS`; ``None``
        leaves a field out so that Globus applies its own default
    """
    kwargs = {name: value for name, value in options.items() if value is not None}
    unknown = set(kwargs) - set(DELETE_OPTIONS)
    if unknown:
        raise TypeError(f"unknown delete options: {sorted(unknown)}")

    task_fields = {
        "label": label,
        "submission_id": submission_id,
        "deadline": resolve_deadline(deadline),
    }
    kwargs.update({name: value for name, value in task_fields.items() if value is not None})
    data = globus_sdk.DeleteData(endpoint=endpoint, **kwargs)
    for path in paths:
        data.add_item(path)
    return data


def document_as_json(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a task document as plain JSON values, leaving out fields that are not set."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: plain(item) for key, item in value.items() if item is not globus_sdk.MISSING
            }
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        return value

    return plain(document)
