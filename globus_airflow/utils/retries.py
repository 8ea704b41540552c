"""Ride out transient Globus failures: rate limits, 5xx responses, dropped connections.

globus-sdk already retries a request a few times within seconds (429 and
5xx, honouring Retry-After, and network errors). A wait that lasts hours
needs more patience than that, and Transfer's ``ExternalError`` and
``EndpointError`` responses (a collection briefly offline) are not retried by
the SDK at all. :class:`TransientErrorBudget` retries such failures with
backoff for up to a budget of seconds per call before giving up.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import globus_sdk
import tenacity

from globus_airflow.exceptions import GlobusError

T = TypeVar("T")

TRANSIENT_HTTP_STATUSES = frozenset({429, 500, 502, 503, 504})

PERMANENT_EXTERNAL_ERROR_PARTS = (
    "Exists",
    "NotFound",
    "PermissionDenied",
    "NotDirectory",
    "NotFile",
    "InvalidPath",
)
"""Parts of ``ExternalError`` codes that describe the request, not an outage.

For example ``ExternalError.MkdirFailed.Exists`` will not change on retry.
"""

DEFAULT_TRANSIENT_ERROR_BUDGET = 900.0
"""Seconds one call keeps retrying transient failures before the Airflow task fails."""


class GlobusTransientError(GlobusError):
    """A Globus call kept failing transiently for longer than its budget; Airflow may retry."""


def is_transient(error: BaseException) -> bool:
    """Return whether a globus-sdk error is worth retrying later."""
    if isinstance(error, globus_sdk.NetworkError):
        return True
    if not isinstance(error, globus_sdk.GlobusAPIError):
        return False

    code = error.code or ""
    if "ExternalError" in code or "EndpointError" in code:
        return not any(part in code for part in PERMANENT_EXTERNAL_ERROR_PARTS)
    return error.http_status in TRANSIENT_HTTP_STATUSES


def describe_error(error: BaseException) -> str:
    """Name an error the way the log groups it, e.g. ``HTTP 503 ServiceUnavailable``."""
    if isinstance(error, globus_sdk.GlobusAPIError):
        return f"HTTP {error.http_status} {error.code}"
    return type(error).__name__


def _retry_after_seconds(error: BaseException) -> float | None:
    if not isinstance(error, globus_sdk.GlobusAPIError):
        return None
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class TransientErrorBudget:
    """Retry transient failures of a call with exponential backoff, within a time budget.

    Each kind of failure is logged once per call, with a count when the call
    finally succeeds, so a storm of 503s makes a few lines rather than hundreds.

    :param budget: seconds of consecutive failures one call may spend retrying
    :param logger: receives the warnings
    :param initial_wait: seconds before the first retry; doubles up to ``max_wait``
    :param max_wait: longest pause between attempts in seconds, unless the
        Retry-After header requests a longer pause
    :param sleep: replaceable in tests
    """

    def __init__(
        self,
        *,
        budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        logger: logging.Logger,
        initial_wait: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self._logger = logger
        self._backoff = tenacity.wait_exponential(multiplier=initial_wait, max=max_wait)
        self._sleep = sleep

    def call(self, description: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``function`` and retry transient failures; re-raise any other error.

        :param description: what the call does, for log lines and the final error
        :raises GlobusTransientError: the budget ran out; names what kept failing
        """
        failures: Counter[str] = Counter()

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception()
            retry_after = _retry_after_seconds(error)
            pause = self._backoff(state)
            return max(pause, retry_after) if retry_after is not None else pause

        def before_sleep(state: tenacity.RetryCallState) -> None:
            kind = describe_error(state.outcome.exception())
            failures[kind] += 1
            if failures[kind] == 1:
                self._logger.warning(
                    "%s failed with %s; retrying for up to %.0f s", description, kind, self.budget
                )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_transient),
            stop=tenacity.stop_after_delay(self.budget),
            wait=wait,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=False,
        )
        try:
            result = retrying(function, *args, **kwargs)
        except tenacity.RetryError as exhausted:
            error = exhausted.last_attempt.exception()
            failures[describe_error(error)] += 1
            raise GlobusTransientError(
                f"{description} kept failing for more than {self.budget:g} s: "
                f"{_format_counts(failures)}. Last error: {error}"
            ) from error

        if failures:
            self._logger.info("%s succeeded after %s", description, _format_counts(failures))
        return result


def _format_counts(failures: Counter[str]) -> str:
    return ", ".join(f"{kind} x{count}" for kind, count in failures.most_common())
