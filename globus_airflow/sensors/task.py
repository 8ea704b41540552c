"""Sensor that waits for a Globus task submitted by another Airflow task or outside Airflow."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.links.task import TASK_ID_XCOM_KEY, TASK_URL_XCOM_KEY, GlobusTaskLink
from globus_airflow.operators.base import DEFAULT_HEARTBEAT_INTERVAL, SUMMARY_XCOM_KEY
from globus_airflow.triggers.task import GlobusTaskTrigger
from globus_airflow.utils.outcome import (
    Verdict,
    raise_for_outcome,
    resolve_trigger_event,
    summarize,
)
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT
from globus_airflow.utils.waiting import TaskPoller

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class GlobusTaskSensor(BaseSensorOperator):
    """Wait until a Globus task succeeds; fail when it fails, goes INACTIVE or stalls.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``,
    in the triggerer. Airflow's sensor ``timeout`` (seconds) and ``soft_fail``
    apply as usual: a timeout raises ``AirflowSensorTimeout``.

    :param globus_task_id: the Globus task to wait for (templated), typically
        ``"{{ ti.xcom_pull('submit') }}"``
    :param stall_timeout: seconds without progress, under a fault that needs
        a human, before the sensor fails; ``None`` waits for the Globus deadline.
        NOTE: in ``reschedule`` mode every poke starts a new process, so stall
        detection catches only faults that last within one poke and is in effect off.
    :param heartbeat_interval: seconds between "unchanged" log lines in the triggerer
    :param deferrable: wait in the triggerer; the default comes from
        Airflow's ``[operators] default_deferrable``
    :param cancel_on_kill: cancel the Globus task when a user marks or clears
        the deferred sensor; off by default because the sensor did not submit it
    :param globus_conn_id: the Airflow connection of type ``globus``
    :return: the Globus task id, which Airflow stores as the return value XCom
    """

    template_fields: Sequence[str] = ("globus_task_id", "globus_conn_id")
    operator_extra_links = (GlobusTaskLink(),)
    ui_color = "#c9e4f6"

    def __init__(
        self,
        *,
        globus_task_id: str,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = DEFAULT_HEARTBEAT_INTERVAL,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        cancel_on_kill: bool = False,
        globus_conn_id: str = GlobusHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.globus_task_id = globus_task_id
        self.stall_timeout = stall_timeout
        self.heartbeat_interval = heartbeat_interval
        self.deferrable = deferrable
        self.cancel_on_kill = cancel_on_kill
        self.globus_conn_id = globus_conn_id

    @cached_property
    def hook(self) -> GlobusHook:
        """The Globus hook, built after the sensor's fields are rendered."""
        return GlobusHook(globus_conn_id=self.globus_conn_id)

    @cached_property
    def poller(self) -> TaskPoller:
        """Reads the task; kept across pokes within one process for stall detection."""
        return TaskPoller(
            self.hook.transfer_client,
            self.globus_task_id,
            logger=self.log,
            stall_timeout=self.stall_timeout,
            heartbeat_interval=self.heartbeat_interval,
            client_identity=self.hook.credentials.client_identity,
        )

    def execute(self, context: Context) -> Any:
        context["ti"].xcom_push(key=TASK_ID_XCOM_KEY, value=self.globus_task_id)
        context["ti"].xcom_push(
            key=TASK_URL_XCOM_KEY, value=self.hook.task_url(self.globus_task_id)
        )
        if not self.deferrable:
            return super().execute(context)

        if self.poke(context):
            return self.globus_task_id
        end_time = None if self.timeout is None else time.time() + float(self.timeout)
        self.defer(
            trigger=GlobusTaskTrigger(
                globus_task_id=self.globus_task_id,
                globus_conn_id=self.globus_conn_id,
                poll_interval=float(self.poke_interval),
                end_time=end_time,
                stall_timeout=self.stall_timeout,
                heartbeat_interval=self.heartbeat_interval,
                cancel_on_kill=self.cancel_on_kill,
            ),
            method_name="execute_complete",
            timeout=None,
        )

    def poke(self, context: Context) -> PokeReturnValue:
        task, outcome = self.poller.poll()
        if outcome.verdict is Verdict.WAIT:
            return PokeReturnValue(is_done=False)

        raise_for_outcome(outcome, globus_task_id=self.globus_task_id, status=task["status"])
        context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=summarize(task))
        self.log.info("%s", outcome.message)
        # The return value XCom is the Globus task id in every mode, as after a deferral.
        return PokeReturnValue(is_done=True, xcom_value=self.globus_task_id)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired and apply the outcome rules to its event."""
        event = resolve_trigger_event(event)
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout={self.timeout} s)")

        if event.get("summary") is not None:
            context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=event["summary"])
        self.log.info("%s", event["message"])
        return self.globus_task_id
