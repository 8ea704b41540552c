"""Operators for directories on a Globus collection: create one, or list one."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import globus_sdk

from airflow.providers.common.compat.sdk import BaseOperator
from globus_airflow.exceptions import GlobusError, GlobusInputError
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.utils import listing, validation
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET, TransientErrorBudget

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

MKDIR_EXISTS_CODE = "ExternalError.MkdirFailed.Exists"
"""The code of Transfer's 502 response to a mkdir of a path that already exists."""

DEFAULT_MAX_ENTRIES = 10_000
"""How many entries GlobusListOperator returns before it fails instead."""


class GlobusCollectionOperator(BaseOperator):
    """Base of operators that make synchronous calls on one collection.

    :param endpoint: UUID of the collection (templated)
    :param path: an absolute path on the collection (templated)
    :param local_user: local account to use on a mapped collection
    :param transient_error_budget: seconds one call may spend retrying rate
        limits (429), 5xx responses, offline-collection errors and network
        errors before the Airflow task fails; 900 by default
    :param globus_conn_id: the Airflow connection of type ``globus``
    """

    template_fields: Sequence[str] = ("endpoint", "path", "globus_conn_id")
    ui_color = "#c9e4f6"

    def __init__(
        self,
        *,
        endpoint: str,
        path: str,
        local_user: str | None = None,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        globus_conn_id: str = GlobusHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = validation.check_collection_id("endpoint", endpoint)
        self.path = validation.check_path("path", path)
        self.local_user = local_user
        self.transient_error_budget = validation.check_positive_number(
            "transient_error_budget", transient_error_budget
        )
        self.globus_conn_id = globus_conn_id

    @cached_property
    def hook(self) -> GlobusHook:
        """The Globus hook, built after the operator's fields are rendered."""
        return GlobusHook(globus_conn_id=self.globus_conn_id)

    def _checked_arguments(self) -> tuple[str, str]:
        """Check the rendered arguments, then ready the hook's token for the collection."""
        endpoint = validation.check_collection_id("endpoint", self.endpoint)
        path = validation.check_path("path", self.path)
        self.hook.prepare_collections([endpoint])
        return endpoint, path

    def _budget(self) -> TransientErrorBudget:
        return TransientErrorBudget(budget=self.transient_error_budget, logger=self.log)


class GlobusMkdirOperator(GlobusCollectionOperator):
    """Create a directory on a Globus collection.

    Globus creates one directory per request and needs its parent to exist;
    ``parents=True`` creates each missing ancestor first, like ``mkdir -p``.

    :param exist_ok: succeed when the directory already exists; otherwise
        Transfer's 502 ``ExternalError.MkdirFailed.Exists`` fails the Airflow task
    :param parents: create missing parent directories, each with one request
    :return: the path, which Airflow stores as the return value XCom

    The other arguments are described on :class:`GlobusCollectionOperator`.
    NOTE: when a mkdir request times out after Globus acted on it, the retry
    finds the directory existing, which fails the task unless ``exist_ok``.
    """

    def __init__(self, *, exist_ok: bool = False, parents: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exist_ok = exist_ok
        self.parents = parents

    def execute(self, context: Context) -> str:
        endpoint, path = self._checked_arguments()
        client = self.hook.transfer_client
        budget = self._budget()

        if self.parents:
            for ancestor in _ancestors(path):
                self._mkdir(client, budget, endpoint, ancestor, exist_ok=True)
        self._mkdir(client, budget, endpoint, path, exist_ok=self.exist_ok or self.parents)
        return path

    def _mkdir(
        self,
        client: globus_sdk.TransferClient,
        budget: TransientErrorBudget,
        endpoint: str,
        path: str,
        *,
        exist_ok: bool,
    ) -> None:
        kwargs = {"local_user": self.local_user} if self.local_user is not None else {}
        try:
            budget.call(
                f"Creating {path} on collection {endpoint}",
                client.operation_mkdir,
                endpoint,
                path,
                **kwargs,
            )
        except globus_sdk.GlobusAPIError as error:
            if error.code == MKDIR_EXISTS_CODE and exist_ok:
                self.log.info("Directory %s already exists on collection %s", path, endpoint)
                return
            if error.code == MKDIR_EXISTS_CODE:
                raise GlobusError(
                    f"{path} already exists on collection {endpoint}: pass exist_ok=True to "
                    "accept an existing directory."
                ) from error
            raise GlobusError(
                f"Creating {path} on collection {endpoint} failed: HTTP {error.http_status} "
                f"{error.code}: {error.message}"
            ) from error
        self.log.info("Created directory %s on collection %s", path, endpoint)


class GlobusListOperator(GlobusCollectionOperator):
    """List a directory on a Globus collection and return its entries for XCom.

    The return value is a list of dicts with ``name``, ``path``,
    ``relative_path``, ``type``, ``size`` and ``last_modified``, sorted by
    path, so it maps directly: ``.expand(path=listing.output.map(lambda e:
    e["path"]))``, or turn each entry into transfer arguments in a
    ``@task`` and pass the result to ``.expand_kwargs()``.

    :param recursive: list subdirectories too
    :param max_depth: with ``recursive``, how many levels to list: 1 lists
        ``path`` only, 2 also its subdirectories; ``None`` (the default) has no limit
    :param pattern: glob (``*``, ``?``, ``[...]``) that an entry's name must
        match; subdirectories are walked whether or not they match (templated)
    :param entry_type: ``file`` or ``dir`` to return only that type; ``None`` returns both
    :param show_hidden: include names that start with a dot; ``None`` keeps
        Globus's default, which includes them
    :param max_entries: fail rather than return more than this many entries,
        10,000 by default, because the whole list is one XCom value
    :param min_entries: fail when fewer entries match, 0 by default
    :return: the entries

    The other arguments are described on :class:`GlobusCollectionOperator`.
    """

    template_fields: Sequence[str] = ("endpoint", "path", "pattern", "globus_conn_id")

    def __init__(
        self,
        *,
        recursive: bool = False,
        max_depth: int | None = None,
        pattern: str | None = None,
        entry_type: str | None = None,
        show_hidden: bool | None = None,
        max_entries: int | None = DEFAULT_MAX_ENTRIES,
        min_entries: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.recursive = recursive
        self.max_depth = _check_count("max_depth", max_depth, minimum=1, allow_none=True)
        self.pattern = pattern
        self.entry_type = listing.check_entry_type(entry_type)
        self.show_hidden = show_hidden
        self.max_entries = _check_count("max_entries", max_entries, minimum=1, allow_none=True)
        self.min_entries = _check_count("min_entries", min_entries, minimum=0)
        if max_depth is not None and not recursive:
            raise GlobusInputError(
                f"max_depth={max_depth!r} has no effect without recursive=True; set both."
            )

    def execute(self, context: Context) -> list[dict[str, Any]]:
        endpoint, path = self._checked_arguments()
        try:
            entries = listing.walk(
                self.hook.transfer_client,
                endpoint,
                path,
                recursive=self.recursive,
                max_depth=self.max_depth,
                pattern=self.pattern or None,
                entry_type=self.entry_type,
                show_hidden=self.show_hidden,
                local_user=self.local_user,
                max_entries=self.max_entries,
                call=self._budget().call,
            )
        except globus_sdk.GlobusAPIError as error:
            raise GlobusError(
                f"Listing {path} on collection {endpoint} failed: HTTP {error.http_status} "
                f"{error.code}: {error.message}"
            ) from error

        if len(entries) < self.min_entries:
            raise GlobusError(
                f"Listing {path} on collection {endpoint} found {len(entries)} matching "
                f"entries, fewer than min_entries={self.min_entries}."
            )
        self.log.info(
            "Listed %s on collection %s: %d entries (%d files, %d directories)",
            path,
            endpoint,
            len(entries),
            sum(entry["type"] == "file" for entry in entries),
            sum(entry["type"] == "dir" for entry in entries),
        )
        return entries


def _ancestors(path: str) -> list[str]:
    """Return the directories above ``path``, outermost first, below the root or ``/~``."""
    parts = [part for part in path.rstrip("/").split("/") if part]
    start = 1 if parts[:1] == ["~"] else 0
    prefix = "/~" if start else ""
    return [prefix + "/" + "/".join(parts[start:end]) for end in range(start + 1, len(parts))]


def _check_count(name: str, value: Any, *, minimum: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GlobusInputError(f"{name}={value!r} must be a whole number of at least {minimum}.")
    return value

