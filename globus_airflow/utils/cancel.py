"""Best-effort cancel of a Globus task, used on kill, on timeout and by the trigger."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import globus_sdk

from globus_airflow.utils.outcome import TERMINAL_STATUSES

DEFAULT_CONFIRM_TIMEOUT = 60.0
"""Seconds to keep reading a cancelled task while waiting for it to end."""


def cancel_task(
    client: globus_sdk.TransferClient,
    globus_task_id: str,
    logger: logging.Logger,
    *,
    confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
    poll_interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Cancel a Globus task and read it until it ends; log problems instead of raising.

    Globus cancels cooperatively, so the task can stay ACTIVE for a moment
    after the cancel request returns.

    :return: the task's last status seen, or ``None`` if it could not be read
    """
    try:
        response = client.cancel_task(globus_task_id)
        logger.info("Requested cancel of Globus task %s: %s", globus_task_id, response.get("code"))
    except globus_sdk.GlobusAPIError as err:
        logger.warning(
            "Globus rejected the cancel of task %s: HTTP %s %s",
            globus_task_id,
            err.http_status,
            err.code,
        )
    except globus_sdk.NetworkError as err:
        logger.warning("Could not reach Globus to cancel task %s: %s", globus_task_id, err)
        return None

    deadline = clock() + confirm_timeout
    status = None
    while True:
        try:
            status = client.get_task(globus_task_id)["status"]
        except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError) as err:
            logger.warning("Could not read Globus task %s after cancel: %s", globus_task_id, err)
            return status
        if status in TERMINAL_STATUSES or clock() >= deadline:
            break
        sleep(poll_interval)

    logger.info("Globus task %s is %s after the cancel request", globus_task_id, status)
    return status
