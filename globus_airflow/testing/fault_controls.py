"""The fault-injection methods of LocalGlobusService, so users test their own DAGs against failures.

See :mod:`globus_airflow.testing.faults` for the route names. Every method
checks its arguments before it registers anything and returns a handle whose
``served`` counts how often the fault fired and whose ``remove()`` ends it.
"""

from __future__ import annotations

import math

from globus_airflow.testing.faults import ErrorSpec, FaultHandle, FaultRegistry, HoldHandle, check_route
from globus_airflow.testing.state import ServiceState


def _check_count(count: int | None) -> None:
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a positive number of requests or None for every request, got {count!r}")


def _check_probability(probability: float | None) -> None:
    if probability is not None and not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must be between 0 and 1 or None for every request, got {probability!r}")


class FaultControls:
    """Fault injection on the service's routes, and the list of secrets it issued."""

    _state: ServiceState
    _faults: FaultRegistry

    def inject_error(
        self,
        route: str,
        *,
        status: int,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        count: int | None = None,
        probability: float | None = None,
    ) -> FaultHandle:
        """Respond to requests on ``route`` with an error instead of processing them.

        A Transfer route gets a Transfer error body (``code``, ``message``,
        ``request_id``, ``resource``) and the ``token`` route an OAuth one
        (``error``, ``error_description``). ``code`` defaults by status, for
        example 429 ClientError.RequestLimitExceeded, 502 ExternalError.Unavailable and
        503 ServiceUnavailable (see ``faults.TRANSFER_ERROR_CODES``).
        ``retry_after`` sets the Retry-After header, in seconds rounded up.
        The fault fires on the first ``count`` matching requests (None: all),
        each with ``probability`` (None: always).
        """
        check_route(route)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error status from 400 to 599, got {status!r}")
        if retry_after is not None and not (retry_after >= 0 and math.isfinite(retry_after)):
            raise ValueError(f"retry_after must be a non-negative number of seconds, got {retry_after!r}")
        _check_count(count)
        _check_probability(probability)

        error = ErrorSpec(status=status, code=code, message=message, retry_after=retry_after)
        handle = FaultHandle(self._faults, kind="error", route=route, count=count, probability=probability, error=error)
        self._faults.add(handle)
        return handle

    def inject_transient_errors(self, probability: float, *, route: str = "transfer") -> list[FaultHandle]:
        """Fail requests on ``route`` with HTTP 502 or 503, each kind half the time, with ``probability``.

        The 502 carries ExternalError.Unavailable and the 503 ServiceUnavailable.
        This is what ``serve --fail-rate`` sets up. Return the two handles, 502 first.
        """
        _check_probability(probability)
        if probability is None:
            raise ValueError("probability must be between 0 and 1, got None")

        # The 503 fault is tried only when the 502 fault did not fire, so its
        # probability is raised to make the total ``probability``, split evenly.
        half = probability / 2
        second = half / (1 - half)
        return [
            self.inject_error(route, status=502, probability=half),
            self.inject_error(route, status=503, probability=second),
        ]

    def add_latency(self, route: str, seconds: float, *, count: int | None = None) -> FaultHandle:
        """Delay requests on ``route`` by ``seconds`` of wall time before processing them.

        The delay is an await in the event loop, so other requests go on
        meanwhile. ``remove()`` on the handle ends the delays under way.
        """
        check_route(route)
        if not (seconds > 0 and math.isfinite(seconds)):
            raise ValueError(f"seconds must be a positive number, got {seconds!r}")
        _check_count(count)

        handle = FaultHandle(self._faults, kind="latency", route=route, count=count, seconds=seconds)
        self._faults.add(handle)
        return handle

    def drop_connections(
        self,
        route: str,
        *,
        count: int | None = None,
        probability: float | None = None,
        after_processing: bool = False,
    ) -> FaultHandle:
        """Close the connection of requests on ``route`` without any response.

        By default the request is dropped before the service processes it.
        With ``after_processing`` the service processes it first (a submit is
        accepted), then drops the response. The client sees a connection
        reset or a closed connection either way.
        """
        check_route(route)
        _check_count(count)
        _check_probability(probability)

        handle = FaultHandle(
            self._faults,
            kind="drop",
            route=route,
            count=count,
            probability=probability,
            after_processing=after_processing,
        )
        self._faults.add(handle)
        return handle

    def hold_requests(self, route: str, *, after_processing: bool = False) -> HoldHandle:
        """Hold requests on ``route`` until ``release()`` on the returned handle.

        Held requests wait without blocking the event loop or other requests.
        ``handle.wait_for_held(count)`` blocks until that many are held. A
        request held before processing whose client disconnects is discarded
        unprocessed, and ``handle.wait_for_discarded()`` waits for that. With
        ``after_processing`` the service processes the request first and holds
        its response.
        """
        check_route(route)
        handle = HoldHandle(self._faults, route=route, after_processing=after_processing)
        self._faults.add(handle)
        return handle

    def secret_values(self) -> list[str]:
        """Return every client secret and every access token the service issued.

        Tests scan logs, XComs and rendered templates for these strings to
        check that no secret leaked.
        """
        with self._state.lock:
            secrets = [client.client_secret for client in self._state.clients.values()]
            secrets.extend(self._state.tokens)
        return secrets
