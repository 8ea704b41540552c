"""Reading a Globus task until it ends: one poll, and the blocking wait built on it.

:class:`TaskPoller` is what the operators and sensors run in the worker and
what the trigger runs in a thread of the triggerer, so all of them judge a
task by the same rules and log the same progress lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import globus_sdk

from globus_airflow.exceptions import GlobusTaskTimeoutError
from globus_airflow.utils.outcome import Outcome, Verdict, evaluate
from globus_airflow.utils.progress import ProgressReporter
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET, TransientErrorBudget
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT, StallMonitor

ERROR_EVENT_LIMIT = 5
"""How many of the newest error events a failure message quotes."""


def newest_error_events(
    client: globus_sdk.TransferClient, globus_task_id: str, *, limit: int = ERROR_EVENT_LIMIT
) -> list[dict[str, Any]]:
    """Return a task's newest error events, newest first."""
    response = client.task_event_list(
        globus_task_id, limit=limit, query_params={"filter": "is_error:1"}
    )
    return [dict(event) for event in response]


class TaskPoller:
    """Read one Globus task on demand and judge it by the outcome rules.

    :param client: an authorized Transfer client
    :param globus_task_id: the task to read
    :param logger: receives progress lines at INFO and fault warnings
    :param stall_timeout: seconds without progress after which a fault that
        needs a human fails the wait; ``None`` waits for the Globus deadline
    :param heartbeat_interval: seconds between "unchanged" lines; ``None`` for none
    :param transient_error_budget: seconds one read may spend retrying rate
        limits, 5xx responses and network errors before the wait fails
    :param client_identity: the app's Globus identity, named in failure messages
        whose fix is to grant it access
    :param clock: monotonic clock in seconds, replaceable in tests
    """

    def __init__(
        self,
        client: globus_sdk.TransferClient,
        globus_task_id: str,
        *,
        logger: logging.Logger,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = 300.0,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        client_identity: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.client_identity = client_identity
        self.budget = TransientErrorBudget(budget=transient_error_budget, logger=logger)
        self.globus_task_id = globus_task_id
        self._logger = logger
        self._stall_timeout = stall_timeout
        self._monitor = StallMonitor(clock=clock)
        self._reporter = ProgressReporter(logger, heartbeat_interval=heartbeat_interval, clock=clock)
        self._last_fault: str | None = None

    def poll(self) -> tuple[dict[str, Any], Outcome]:
        """Read the task once and return it with its outcome.

        Error events are fetched only when the outcome is a failure, to
        explain it, so a healthy poll costs one request.
        """
        response = self.budget.call(
            f"Reading Globus task {self.globus_task_id}", self.client.get_task, self.globus_task_id
        )
        task = dict(response.data)
        stalled_for = self._monitor.observe(task)
        rules = {
            "stalled_for": stalled_for,
            "stall_timeout": self._stall_timeout,
            "client_identity": self.client_identity,
        }
        outcome = evaluate(task, **rules)

        if outcome.verdict in (Verdict.FAILED, Verdict.FAILED_FATAL):
            events = self.budget.call(
                f"Reading error events of Globus task {self.globus_task_id}",
                newest_error_events,
                self.client,
                self.globus_task_id,
            )
            outcome = evaluate(task, events, **rules)

        self._reporter.report(task)
        self._warn_on_new_fault(outcome)
        return task, outcome

    def _warn_on_new_fault(self, outcome: Outcome) -> None:
        fault = outcome.code if outcome.verdict is Verdict.WAIT else None
        if fault is not None and fault != self._last_fault:
            self._logger.warning("%s", outcome.message)
        self._last_fault = fault


def wait_for_task(
    poller: TaskPoller,
    *,
    poll_interval: float,
    timeout: float | None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[dict[str, Any], Outcome]:
    """Poll a task until its outcome is no longer :attr:`Verdict.WAIT`.

    :param poll_interval: seconds between reads of the task
    :param timeout: seconds to wait in all; ``None`` waits for as long as
        Globus keeps the task running (until its deadline)
    :return: the last task document and its outcome
    :raises GlobusTaskTimeoutError: the timeout passed first
    """
    deadline = None if timeout is None else clock() + timeout

    while True:
        task, outcome = poller.poll()
        if outcome.verdict is not Verdict.WAIT:
            return task, outcome

        pause = poll_interval
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                raise GlobusTaskTimeoutError(
                    f"Globus task {poller.globus_task_id} is still {task['status']} after the "
                    f"timeout of {timeout:g} s.",
                    globus_task_id=poller.globus_task_id,
                    status=task["status"],
                )
            pause = min(pause, remaining)
        sleep(pause)
