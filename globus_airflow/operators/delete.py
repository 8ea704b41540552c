"""Operator that submits a Globus delete task and waits for it."""

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
    read_delete_manifest,
)
from globus_airflow.utils.task_documents import build_delete_data

if TYPE_CHECKING:
    import globus_sdk


class GlobusDeleteOperator(GlobusBaseTaskOperator):
    """Submit a Globus delete task and, by default, wait until it succeeds.

    Give ``path`` (one file or directory), ``items`` (many) or ``manifest``
    (many, read from a file on the worker). Symbolic links are removed,
    never followed. Only a SUCCEEDED task is a success: a FAILED delete,
    for example of a missing path without ``ignore_missing``, fails the
    Airflow task. Retries, clears and ``max_items_per_task`` follow the same
    exactly-once rules as
    :class:`~globus_airflow.operators.transfer.GlobusTransferOperator`, and
    the waiting arguments are described on
    :class:`~globus_airflow.operators.base.GlobusBaseTaskOperator`.

    :param endpoint: UUID of the collection to delete from (templated)
    :param path: one absolute path to delete (templated)
    :param items: list of paths, or of dicts with ``path`` (templated); an
        upstream ``.output`` or a template that renders to a JSON or Python
        list also works
    :param manifest: path of a file on the Airflow worker that lists the
        paths, as JSON lines, CSV with a ``path`` header, or one path per
        line as for globus-cli's ``delete --batch``; with a manifest, ``path``
        is an optional prefix for its relative paths (templated)
    :param manifest_format: ``jsonl``, ``csv`` or ``batch``; ``None`` detects
        it from the file name
    :param recursive: delete directories with their contents; without it a
        directory item fails the task
    :param ignore_missing: treat a path that does not exist as deleted
        instead of failing the task
    :param interpret_globs: expand ``*``, ``?`` and ``[...]`` in the last
        component of each path; a backslash escapes them
    :param delete_label: the Globus task label, at most 128 characters (templated)
    :param deadline: when Globus gives up, as a timedelta from submission or a
        timezone-aware datetime. Globus does not extend a delete task's
        deadline, so leave room for time spent queued behind other tasks
    :param notify_on_succeeded: email the app's owner when the task succeeds
    :param notify_on_failed: email when it fails
    :param notify_on_inactive: email when it becomes inactive
    :param local_user: local account to use on a mapped collection
    :return: the Globus task id, which Airflow stores as the return value XCom;
        the list of task ids when ``max_items_per_task`` split the items
    """

    globus_task_type = "DELETE"
    template_fields: Sequence[str] = (
        "endpoint",
        "path",
        "items",
        "manifest",
        "delete_label",
        "globus_conn_id",
    )
    template_fields_renderers = {"items": "json"}
    ui_color = "#f6d5c9"

    def __init__(
        self,
        *,
        endpoint: str,
        path: str | None = None,
        items: list[str] | list[dict[str, str]] | str | None = None,
        manifest: str | None = None,
        manifest_format: str | None = None,
        recursive: bool | None = None,
        ignore_missing: bool | None = None,
        interpret_globs: bool | None = None,
        delete_label: str | None = None,
        deadline: datetime.timedelta | datetime.datetime | None = None,
        notify_on_succeeded: bool | None = None,
        notify_on_failed: bool | None = None,
        notify_on_inactive: bool | None = None,
        local_user: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = validation.check_collection_id("endpoint", endpoint)
        self.path = path
        self.items = items
        self.manifest = manifest
        self.manifest_format = check_manifest_format(manifest_format)
        self.delete_label = validation.check_label("delete_label", delete_label)
        self.deadline = validation.check_deadline(deadline)
        self.options: dict[str, Any] = {
            "recursive": recursive,
            "ignore_missing": ignore_missing,
            "interpret_globs": interpret_globs,
            "notify_on_succeeded": notify_on_succeeded,
            "notify_on_failed": notify_on_failed,
            "notify_on_inactive": notify_on_inactive,
            "local_user": local_user,
        }
        for name in ("recursive", "ignore_missing", "interpret_globs"):
            value = self.options[name]
            if value is not None and not isinstance(value, bool):
                raise GlobusInputError(f"{name}={value!r} must be True, False or None.")

        self._check_item_arguments()
        if path is not None:
            validation.check_path("path", path)
        # An XComArg or a Jinja string is checked after rendering, at execution time.
        if isinstance(items, (list, tuple)):
            validation.check_delete_items(items)

    def _check_item_arguments(self) -> None:
        sources = [name for name in ("items", "manifest") if getattr(self, name) is not None]
        if len(sources) > 1:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets both items and manifest: pass one of them."
            )
        if sources == ["items"] and self.path is not None:
            raise GlobusInputError(
                f"Task {self.task_id!r} sets both path and items: pass one path through "
                "path or a list through items."
            )
        if not sources and self.path is None:
            raise GlobusInputError(
                f"Task {self.task_id!r} has nothing to delete: set path, items or manifest."
            )

    def build_delete_data(self) -> globus_sdk.DeleteData:
        """Check the rendered arguments and build the delete task document.

        A manifest is read here, on the worker, at execution time.

        :raises GlobusInputError: a rendered value is invalid
        """
        if self.manifest is not None:
            paths = validation.check_delete_items(
                read_delete_manifest(
                    self.manifest, manifest_format=self.manifest_format, prefix=self.path
                )
            )
        elif self.items is not None:
            paths = validation.check_delete_items(coerce_item_list(self.items))
        else:
            paths = [validation.check_path("path", self.path)]

        return build_delete_data(
            endpoint=validation.check_collection_id("endpoint", self.endpoint),
            paths=paths,
            label=validation.check_label("delete_label", self.delete_label),
            deadline=self.deadline,
            options=self.options,
        )

    def build_document(self) -> globus_sdk.DeleteData:
        return self.build_delete_data()

    def submit_document(
        self, client: globus_sdk.TransferClient, document: globus_sdk.DeleteData
    ) -> globus_sdk.GlobusHTTPResponse:
        return client.submit_delete(document)
