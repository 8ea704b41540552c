"""Sensor that waits for a path, or for entries matching a pattern, on a Globus collection."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from globus_airflow.exceptions import GlobusError, GlobusInputError
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.triggers.path import GlobusPathTrigger, PathProbe
from globus_airflow.utils import validation

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class GlobusPathSensor(BaseSensorOperator):
    """Wait until a path exists on a collection, or until a pattern matches enough entries.

    Typical use is an instrument's completion marker: ``path="/runs/A01/RTAComplete.txt"``,
    or ``pattern="/runs/*/RTAComplete.txt"`` for any run. A missing path
    and a collection that Transfer reports as unreachable (502
    ``ExternalError`` or ``EndpointError``) both mean "not yet". A denied
    permission or an unknown collection fails the sensor.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``,
    in the triggerer. Airflow's ``poke_interval``, ``timeout`` (seconds)
    and ``soft_fail`` apply as usual.

    :param endpoint: UUID of the collection (templated)
    :param path: an absolute path to wait for (templated); give this or ``pattern``
    :param pattern: an absolute path in which any component may be a glob
        (``*``, ``?``, ``[...]``), such as ``/runs/*/fastq/*.fastq.gz`` (templated)
    :param min_matches: how many entries ``pattern`` must match, 1 by default
    :param local_user: local account to use on a mapped collection
    :param deferrable: wait in the triggerer; the default comes from
        Airflow's ``[operators] default_deferrable``
    :param globus_conn_id: the Airflow connection of type ``globus``
    :return: the matching entries as dicts with ``name``, ``path``, ``type``,
        ``size`` and ``last_modified``, sorted by path, stored as the return
        value XCom
    """

    template_fields: Sequence[str] = ("endpoint", "path", "pattern", "globus_conn_id")
    ui_color = "#c9e4f6"

    def __init__(
        self,
        *,
        endpoint: str,
        path: str | None = None,
        pattern: str | None = None,
        min_matches: int = 1,
        local_user: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        globus_conn_id: str = GlobusHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = validation.check_collection_id("endpoint", endpoint)
        self.path = path
        self.pattern = pattern
        self.min_matches = min_matches
        self.local_user = local_user
        self.deferrable = deferrable
        self.globus_conn_id = globus_conn_id
        self._check_target()

    def _check_target(self) -> None:
        if (self.path is None) == (self.pattern is None):
            raise GlobusInputError(
                f"Task {self.task_id!r} must set exactly one of path and pattern."
            )
        if self.path is not None:
            validation.check_path("path", self.path)
            if self.min_matches != 1:
                raise GlobusInputError(
                    f"min_matches={self.min_matches!r} applies to pattern only, because a "
                    "path matches once."
                )
        else:
            validation.check_path("pattern", self.pattern)
        if (
            isinstance(self.min_matches, bool)
            or not isinstance(self.min_matches, int)
            or self.min_matches < 1
        ):
            raise GlobusInputError(
                f"min_matches={self.min_matches!r} must be a whole number of at least 1."
            )

    @cached_property
    def hook(self) -> GlobusHook:
        """The Globus hook, built after the sensor's fields are rendered."""
        return GlobusHook(globus_conn_id=self.globus_conn_id)

    @cached_property
    def probe(self) -> PathProbe:
        """Runs each check; kept across pokes within one process so warnings are not repeated."""
        self._check_target()
        return PathProbe(
            self.hook,
            endpoint=validation.check_collection_id("endpoint", self.endpoint),
            path=self.path,
            pattern=self.pattern,
            min_matches=self.min_matches,
            local_user=self.local_user,
            logger=self.log,
        )

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)

        found = self.poke(context)
        if found:
            return found.xcom_value
        end_time = None if self.timeout is None else time.time() + float(self.timeout)
        self.defer(
            trigger=GlobusPathTrigger(
                endpoint=self.probe.endpoint,
                path=self.path,
                pattern=self.pattern,
                min_matches=self.min_matches,
                local_user=self.local_user,
                poll_interval=float(self.poke_interval),
                end_time=end_time,
                globus_conn_id=self.globus_conn_id,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        entries = self.probe.check()
        if entries is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=entries)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Resume after the trigger fired: return the entries, or raise for a timeout or error."""
        statuses = ("success", "timeout", "error")
        if not isinstance(event, Mapping) or event.get("status") not in statuses:
            raise GlobusError(f"Resumed with an invalid trigger event {event!r}.")
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout={self.timeout} s)")
        if event["status"] == "error":
            raise GlobusError(event["message"])
        self.log.info("%s", event["message"])
        return event["entries"]
