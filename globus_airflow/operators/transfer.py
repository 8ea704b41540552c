"""Operator that submits a Globus transfer task and waits for it."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from globus_airflow.exceptions import GlobusInputError
from globus_airflow.operators.base import GlobusBaseTaskOperator
from globus_airflow.utils import validation
from globus_airflow.utils.manifests import (
    check_manifest_format,
    coerce_item_list,
    read_transfer_manifest,
)
from globus_airflow.utils.task_documents import TRANSFER_OPTIONS, build_transfer_data

if TYPE_CHECKING:
    import globus_sdk

    from globus_airflow.utils.submissions import PriorTask


class GlobusTransferOperator(GlobusBaseTaskOperator):
    """Submit a Globus transfer task and, by default, wait until it succeeds.

    Give either ``source_path`` and ``destination_path`` (one item), ``items``
    (many) or ``manifest`` (many, read from a file on the worker). Paths are
    absolute on their collection: ``/`` is the collection root and ``/~/``
    its default directory. A ``None`` option is left out of the task
    document so that Globus applies its own default.

    Only a SUCCEEDED task is a success. A FAILED or INACTIVE task, or one
    stalled by a fault that needs a human, raises
    :class:`~globus_airflow.exceptions.GlobusTaskError`; passing ``timeout``
    cancels the Globus task and raises
    :class:`~globus_airflow.exceptions.GlobusTaskTimeoutError`. The waiting
    arguments (``wait_for_completion``, ``poll_interval``, ``timeout``,
    ``stall_timeout``, ``deferrable``, ``cancel_on_kill`` and the rest) are
    described on :class:`~globus_airflow.operators.base.GlobusBaseTaskOperator`.

    :param source_endpoint: UUID of the source collection (templated)
    :param destination_endpoint: UUID of the destination collection (templated)
    :param source_path: path of one file or directory to copy (templated)
    :param destination_path: where that item lands; for a file, the full file path (templated)
    :param recursive: whether the single item is a directory; ``None`` lets
        Globus detect it
    :param items: list of dicts with ``source_path``, ``destination_path`` and
        optional ``recursive``, ``external_checksum`` and ``checksum_algorithm``
        (templated); an upstream ``.output`` or a template that renders to a
        JSON or Python list also works
    :param manifest: path of a file on the Airflow worker that lists the
        items, as JSON lines, CSV with a header, or globus-cli ``--batch``
        lines (see :mod:`globus_airflow.utils.manifests`); with a manifest,
        ``source_path`` and ``destination_path`` are optional prefixes for
        its relative paths (templated)
    :param manifest_format: ``jsonl``, ``csv`` or ``batch``; ``None`` detects
        it from the file name (``.jsonl``, ``.ndjson``, ``.csv``, else batch)
    :param transfer_label: the Globus task label, at most 128 characters (templated)
    :param sync_level: ``exists``, ``size``, ``mtime`` or ``checksum``: when a
        file already at the destination is skipped
    :param verify_checksum: compare checksums after copying each file
    :param preserve_timestamp: copy file modification times
    :param encrypt_data: encrypt the data channel
    :param deadline: when Globus gives up, as a timedelta from submission or a
        timezone-aware datetime
    :param skip_source_errors: skip source files that cannot be read instead of retrying
    :param fail_on_quota_errors: fail the task on a quota error instead of retrying
    :param delete_destination_extra: delete destination files missing from the source
    :param notify_on_succeeded: email the app's owner when the task succeeds
    :param notify_on_failed: email when it fails
    :param notify_on_inactive: email when it becomes inactive
    :param source_local_user: local account to use on a mapped source collection
    :param destination_local_user: local account to use on a mapped destination collection
    :param filter_rules: list of dicts with ``name`` (a glob), optional ``method``
        (``include`` or ``exclude``, default ``exclude``) and ``type``
        (``file`` or ``dir``), applied in order to recursive items
    :return: the Globus task id, which Airflow stores as the return value XCom;
        the list of task ids when ``max_items_per_task`` split the items
    """

    template_fields: Sequence[str] = (
        "source_endpoint",
        "destination_endpoint",
        "source_path",
        "destination_path",
        "items",
        "manifest",
        "transfer_label",
        "globus_conn_id",
    )
    template_fields_renderers = {"items": "json"}

    def __init__(
        self,
        *,
        source_endpoint: str,
        destination_endpoint: str,
        source_path: str | None = None,
        destination_path: str | None = None,
        recursive: bool | None = None,
        items: list[dict[str, Any]] | str | None = None,
        manifest: str | None = None,
        manifest_format: str | None = None,
        transfer_label: str | None = None,
        sync_level: str | int | None = None,
        verify_checksum: bool | None = None,
        preserve_timestamp: bool | None = None,
        encrypt_data: bool | None = None,
        deadline: datetime.timedelta | datetime.datetime | None = None,
        skip_source_errors: bool | None = None,
        fail_on_quota_errors: bool | None = None,
        delete_destination_extra: bool | None = None,
        notify_on_succeeded: bool | None = None,
        notify_on_failed: bool | None = None,
        notify_on_inactive: bool | None = None,
        source_local_user: str | None = None,
        destination_local_user: str | None = None,
        filter_rules: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_endpoint = validation.check_collection_id("source_endpoint", source_endpoint)
        self.destination_endpoint = validation.check_collection_id(
            "destination_endpoint", destination_endpoint
        )
        self.source_path = source_path
        self.destination_path = destination_path
        self.recursive = recursive
        self.items = items
        self.manifest = manifest
        self.manifest_format = manifest_format
        self.transfer_label = validation.check_label("transfer_label", transfer_label)
        self.sync_level = validation.check_sync_level(sync_level)
        self.deadline = validation.check_deadline(deadline)
        self.filter_rules = validation.check_filter_rules(filter_rules)
        self.options: dict[str, Any] = {
            "verify_checksum": verify_checksum,
            "preserve_timestamp": preserve_timestamp,
            "encrypt_data": encrypt_data,
            "skip_source_errors": skip_source_errors,
            "fail_on_quota_errors": fail_on_quota_errors,
            "delete_destination_extra": delete_destination_extra,
            "notify_on_succeeded": notify_on_succeeded,
            "notify_on_failed": notify_on_failed,
            "notify_on_inactive": notify_on_inactive,
            "source_local_user": source_local_user,
            "destination_local_user": destination_local_user,
        }

        self._check_item_arguments()
        # An XComArg or a Jinja string is checked after rendering, at execution time.
        if isinstance(items, (list, tuple, dict)) or (
            isinstance(items, str) and not validation.is_template(items)
        ):
            validation.check_transfer_items(items)
        for name in ("source_path", "destination_path"):
            if getattr(self, name) is not None:
                validation.check_path(name, getattr(self, name))

    def _check_item_arguments(self) -> None:
        if self.manifest is not None:
            self._check_manifest_arguments()
            return
        single = self.source_path is not None or self.destination_path is not None
        if self.items is not None and single:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets both items and source_path/destination_path: "
                "pass either one item through the paths or a list through items."
            )
        if self.items is None and (self.source_path is None or self.destination_path is None):
            raise GlobusInputError(
                f"Task {self.task_id!r} has nothing to transfer: set source_path and "
                "destination_path, or items."
            )
        if self.items is not None and self.recursive is not None:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets recursive={self.recursive!r} with items: "
                "give 'recursive' in each item instead."
            )

    def _check_manifest_arguments(self) -> None:
        if self.items is not None:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets both manifest and items: pass one of them."
            )
        if self.recursive is not None:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets recursive={self.recursive!r} with a manifest: "
                "mark directories in the manifest instead (--recursive on a batch line, "
                "or a 'recursive' column or key)."
            )
        check_manifest_format(self.manifest_format)

    def build_transfer_data(self, *, submission_id: str | None = None) -> globus_sdk.TransferData:
        """Check the rendered arguments and build the transfer task document.

        A manifest is read here, on the worker, at execution time.

        :raises GlobusInputError: a rendered value is invalid
        """
        if self.manifest is not None:
            items = validation.check_transfer_items(
                read_transfer_manifest(
                    self.manifest,
                    manifest_format=self.manifest_format,
                    source_prefix=self.source_path,
                    destination_prefix=self.destination_path,
                )
            )
        elif self.items is not None:
            items = validation.check_transfer_items(coerce_item_list(self.items))
        else:
            items = [
                {
                    "source_path": validation.check_path("source_path", self.source_path),
                    "destination_path": validation.check_path(
                        "destination_path", self.destination_path
                    ),
                    "recursive": self.recursive,
                }
            ]
            validation.check_transfer_items(items)

        options = dict(self.options, sync_level=self.sync_level)
        return build_transfer_data(
            source_endpoint=validation.check_collection_id("source_endpoint", self.source_endpoint),
            destination_endpoint=validation.check_collection_id(
                "destination_endpoint", self.destination_endpoint
            ),
            items=items,
            label=validation.check_label("transfer_label", self.transfer_label),
            deadline=self.deadline,
            filter_rules=self.filter_rules,
            submission_id=submission_id,
            options={name: options[name] for name in TRANSFER_OPTIONS if name in options},
        )

    def build_document(self) -> globus_sdk.TransferData:
        return self.build_transfer_data()

    def submit_document(
        self, client: globus_sdk.TransferClient, document: globus_sdk.TransferData
    ) -> globus_sdk.GlobusHTTPResponse:
        return client.submit_transfer(document)

    def before_resubmit(self, prior: PriorTask) -> None:
        super().before_resubmit(prior)
        level = self.sync_level
        numeric = validation.SYNC_LEVELS.get(level, level) if isinstance(level, str) else level
        if numeric is None or numeric < validation.SYNC_LEVELS["checksum"]:
            self.log.warning(
                "sync_level=%r: the failed task may have left partly written files at the "
                "destination, and only sync_level='checksum' is sure to copy them again.",
                level,
            )
