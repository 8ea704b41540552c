"""The blocking wait on a Globus task, used in the worker by operators and sensors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import globus_sdk

from globus_airflow.exceptions import GlobusTaskTimeoutError
from globus_airflow.utils.outcome import Outcome, Verdict, evaluate
from globus_airflow.utils.progress import ProgressReporter

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


def check_task(
    client: globus_sdk.TransferClient, globus_task_id: str
) -> tuple[dict[str, Any], Outcome]:
    """Read a task once and evaluate it; error events are fetched only for a failure."""
    task = dict(client.get_task(globus_task_id))
    outcome = evaluate(task)
    if outcome.verdict in (Verdict.FAILED, Verdict.FAILED_FATAL):
        outcome = evaluate(task, newest_error_events(client, globus_task_id))
    return task, outcome


def wait_for_task(
    client: globus_sdk.TransferClient,
    globus_task_id: str,
    *,
    poll_interval: float,
    timeout: float | None,
    logger: logging.Logger,
    heartbeat_interval: float | None = 300.0,
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
    reporter = ProgressReporter(logger, heartbeat_interval=heartbeat_interval, clock=clock)
    deadline = None if timeout is None else clock() + timeout

    while True:
        task, outcome = check_task(client, globus_task_id)
        reporter.report(task)
        if outcome.verdict is not Verdict.WAIT:
            return task, outcome

        pause = poll_interval
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                raise GlobusTaskTimeoutError(
                    f"Globus task {globus_task_id} is still {task['status']} after the "
                    f"timeout of {timeout} s.",
                    globus_task_id=globus_task_id,
                    status=task["status"],
                )
            pause = min(pause, remaining)
        sleep(pause)
