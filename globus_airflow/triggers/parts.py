"""Trigger that waits on every part of a split submission in the triggerer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.triggers.hooks import build_hook
from globus_airflow.utils.cancel import cancel_task
from globus_airflow.utils.outcome import Verdict
from globus_airflow.utils.parts import PartsPoller
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT


class GlobusTaskPartsTrigger(BaseTrigger):
    """Poll several Globus tasks until each one ends or stalls, or the wait times out.

    The trigger yields exactly one event, a dict with ``status`` (``success``
    when every task succeeded, ``failed`` or ``failed_fatal`` when any did
    not, ``timeout`` or ``error``), ``message``, ``globus_task_ids`` and
    ``results``: one dict per task that has an outcome, as built by
    :func:`~globus_airflow.utils.parts.part_result`.

    :param globus_task_ids: the Globus tasks to wait on, in part order
    :param globus_conn_id: the Airflow connection of type ``globus``
    :param poll_interval: seconds between rounds of reads; one round reads
        each unfinished task once
    :param end_time: wall-clock time (seconds since the epoch) when the wait
        times out; ``None`` waits until Globus ends every task
    :param stall_timeout: seconds without progress, under a fault that needs
        a human, before a task counts as failed; ``None`` waits for the Globus deadline
    :param heartbeat_interval: seconds between "unchanged" log lines per task
    :param cancel_on_kill: cancel the tasks when a user marks or clears the
        deferred Airflow task (Airflow 3.3 and later call :meth:`on_kill`)
    :param transient_error_budget: seconds one read may spend retrying
        transient failures before the wait fails
    """

    def __init__(
        self,
        *,
        globus_task_ids: list[str],
        globus_conn_id: str = GlobusHook.default_conn_name,
        poll_interval: float = 15.0,
        end_time: float | None = None,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = 300.0,
        cancel_on_kill: bool = True,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
    ) -> None:
        super().__init__()
        self.globus_task_ids = list(globus_task_ids)
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
                "globus_task_ids": self.globus_task_ids,
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
        poller = None
        try:
            hook = await build_hook(self.globus_conn_id)
            poller = PartsPoller(
                hook.transfer_client,
                self.globus_task_ids,
                logger=self.log,
                stall_timeout=self.stall_timeout,
                heartbeat_interval=self.heartbeat_interval,
                transient_error_budget=self.transient_error_budget,
            )
            event = await self._wait(poller)
        except Exception as err:
            self.log.exception("Waiting on Globus tasks %s failed", self.globus_task_ids)
            event = self._event(
                "error",
                f"Waiting on Globus tasks {', '.join(self.globus_task_ids)} failed: {err}",
                results=[] if poller is None else poller.results,
            )
        yield TriggerEvent(event)

    async def _wait(self, poller: PartsPoller) -> dict[str, Any]:
        while True:
            if await asyncio.to_thread(poller.poll):
                return self._final_event(poller.results)

            pause = self.poll_interval
            if self.end_time is not None:
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    message = (
                        f"Globus tasks are still running after the operator's timeout: "
                        f"{poller.describe_waiting()}."
                    )
                    return self._event("timeout", message, results=poller.results)
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    def _final_event(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        verdicts = {result["verdict"] for result in results}
        if Verdict.FAILED_FATAL.value in verdicts:
            status = "failed_fatal"
        elif Verdict.FAILED.value in verdicts:
            status = "failed"
        else:
            status = "success"
        failed = sum(result["verdict"] != Verdict.SUCCEEDED.value for result in results)
        message = f"{len(results) - failed} of {len(results)} Globus tasks succeeded."
        return self._event(status, message, results=results)

    async def on_kill(self) -> None:
        """Cancel the Globus tasks when a user acts on the deferred Airflow task; never raises."""
        if not self.cancel_on_kill:
            return
        try:
            hook = await build_hook(self.globus_conn_id)
            for globus_task_id in self.globus_task_ids:
                await asyncio.to_thread(
                    cancel_task, hook.transfer_client, globus_task_id, self.log
                )
        except Exception:
            self.log.warning(
                "Could not cancel Globus tasks %s", self.globus_task_ids, exc_info=True
            )

    def _event(
        self, status: str, message: str, *, results: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "status": status,
            "message": message,
            "globus_task_ids": self.globus_task_ids,
            "results": results,
        }
