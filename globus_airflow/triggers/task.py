"""Trigger that waits on a Globus task in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.triggers.hooks import build_hook
from globus_airflow.utils.cancel import cancel_task
from globus_airflow.utils.outcome import Verdict, summarize
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT
from globus_airflow.utils.waiting import TaskPoller

log = logging.getLogger(__name__)

EVENT_STATUSES = ("success", "failed", "failed_fatal", "timeout", "error")
"""Values of ``status`` in the trigger's one terminal event."""


class GlobusTaskTrigger(BaseTrigger):
    """Poll a Globus task until it ends, stalls, or the wait times out.

    The trigger keeps only small JSON values, builds its Transfer client inside
    :meth:`run` and runs every globus-sdk call in a thread, so the triggerer's
    event loop never blocks. It yields exactly one event, a dict with
    ``status`` (one of :data:`EVENT_STATUSES`), ``message``,
    ``globus_task_id``, ``code`` and ``summary`` (the task's counters).

    :param globus_task_id: the Globus task to wait on
    :param globus_conn_id: the Airflow connection of type ``globus``
    :param poll_interval: seconds between reads of the task
    :param end_time: wall-clock time (seconds since the epoch) when the wait
        times out; ``None`` waits until Globus ends the task
    :param stall_timeout: seconds without progress, under a fault that needs
        a human, before the wait fails; ``None`` waits for the Globus deadline
    :param heartbeat_interval: seconds between "unchanged" log lines
    :param cancel_on_kill: cancel the Globus task when a user marks or clears
        the deferred Airflow task (Airflow 3.3 and later call :meth:`on_kill`)
    :param transient_error_budget: seconds one read may spend retrying
        transient failures before the wait fails
    """

    def __init__(
        self,
        *,
        globus_task_id: str,
        globus_conn_id: str = GlobusHook.default_conn_name,
        poll_interval: float = 15.0,
        end_time: float | None = None,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = 300.0,
        cancel_on_kill: bool = True,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
    ) -> None:
        super().__init__()
        self.globus_task_id = globus_task_id
        self.globus_conn_id = globus_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.stall_timeout = stall_timeout
        self.heartbeat_interval = heartbeat_interval
        self.cancel_on_kill = cancel_on_kill
        self.transient_error_budget = transient_error_budget

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "globus_task_id": self.globus_task_id,
                "globus_conn_id": self.globus_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "stall_timeout": self.stall_timeout,
                "heartbeat_interval": self.heartbeat_interval,
                "cancel_on_kill": self.cancel_on_kill,
                "transient_error_budget": self.transient_error_budget,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            hook = await self._build_hook()
            poller = TaskPoller(
                hook.transfer_client,
                self.globus_task_id,
                logger=self.log,
                stall_timeout=self.stall_timeout,
                heartbeat_interval=self.heartbeat_interval,
                transient_error_budget=self.transient_error_budget,
                client_identity=hook.credentials.client_identity,
            )
            event = await self._wait(poller)
        except Exception as err:
            self.log.exception("Waiting on Globus task %s failed", self.globus_task_id)
            event = self._event("error", f"Waiting on Globus task {self.globus_task_id} failed: {err}")
        yield TriggerEvent(event)

    async def _wait(self, poller: TaskPoller) -> dict[str, Any]:
        while True:
            task, outcome = await asyncio.to_thread(poller.poll)
            if outcome.verdict is Verdict.SUCCEEDED:
                return self._event("success", outcome.message, task=task)
            if outcome.verdict is Verdict.FAILED:
                return self._event("failed", outcome.message, task=task, code=outcome.code)
            if outcome.verdict is Verdict.FAILED_FATAL:
                return self._event("failed_fatal", outcome.message, task=task, code=outcome.code)

            pause = self.poll_interval
            if self.end_time is not None:
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    message = (
                        f"Globus task {self.globus_task_id} is still {task['status']} "
                        "after the operator's timeout."
                    )
                    return self._event("timeout", message, task=task)
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    async def _build_hook(self) -> GlobusHook:
        return await build_hook(self.globus_conn_id)

    async def on_kill(self) -> None:
        """Cancel the Globus task when a user acts on the deferred Airflow task; never raises.

        NOTE: Airflow calls this only for a trigger that a triggerer is running.
        A task marked or cleared before a triggerer picks up its trigger (about
        a second after the deferral) leaves its Globus task running.
        """
        if not self.cancel_on_kill:
            return
        try:
            hook = await self._build_hook()
            await asyncio.to_thread(cancel_task, hook.transfer_client, self.globus_task_id, self.log)
        except Exception:
            self.log.warning(
                "Could not cancel Globus task %s", self.globus_task_id, exc_info=True
            )

    def _event(
        self,
        status: str,
        message: str,
        *,
        task: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> dict[str, Any]:
        return {
            "status": status,
            "message": message,
            "globus_task_id": self.globus_task_id,
            "code": code,
            "task_status": None if task is None else task["status"],
            "summary": None if task is None else summarize(task),
        }
