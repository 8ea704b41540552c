"""Fault injection for the local Globus service: route names, fault handles and their registry.

A fault is registered on a route name and fires on matching requests:
an error response, added latency, a dropped connection or a hold. The ASGI
layer in :mod:`globus_airflow.testing.fault_middleware` gets the faults that
fire on each request from the registry and carries them out.

Route names (``ROUTE_NAMES``)::

    token                  POST /auth/v2/oauth2/token
    submission_id          GET  /transfer/v0.10/submission_id
    submit_transfer        POST /transfer/v0.10/transfer
    submit_delete          POST /transfer/v0.10/delete
    get_task               GET  /transfer/v0.10/task/{task_id}
    task_list              GET  /transfer/v0.10/task_list
    event_list             GET  /transfer/v0.10/task/{task_id}/event_list
    successful_transfers   GET  /transfer/v0.10/task/{task_id}/successful_transfers
    cancel_task            POST /transfer/v0.10/task/{task_id}/cancel
    get_endpoint           GET  /transfer/v0.10/endpoint/{endpoint_id}
    ls                     GET  /transfer/v0.10/operation/endpoint/{endpoint_id}/ls
    mkdir                  POST /transfer/v0.10/operation/endpoint/{endpoint_id}/mkdir
    stat                   GET  /transfer/v0.10/operation/endpoint/{endpoint_id}/stat
    transfer               every request below /transfer/

Faults with a probability draw from their own ``random.Random``, seeded from
the service's ``seed`` and the fault's registration order, so the same seed
and the same requests give the same sequence of fired faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import re
import threading
from collections.abc import Callable

ROUTES: dict[str, tuple[str, str]] = {
    "token": ("POST", r"/auth/v2/oauth2/token"),
    "submission_id": ("GET", r"/transfer/v0\.10/submission_id"),
    "submit_transfer": ("POST", r"/transfer/v0\.10/transfer"),
    "submit_delete": ("POST", r"/transfer/v0\.10/delete"),
    "get_task": ("GET", r"/transfer/v0\.10/task/[^/]+"),
    "task_list": ("GET", r"/transfer/v0\.10/task_list"),
    "event_list": ("GET", r"/transfer/v0\.10/task/[^/]+/event_list"),
    "successful_transfers": ("GET", r"/transfer/v0\.10/task/[^/]+/successful_transfers"),
    "cancel_task": ("POST", r"/transfer/v0\.10/task/[^/]+/cancel"),
    "get_endpoint": ("GET", r"/transfer/v0\.10/endpoint/[^/]+"),
    "ls": ("GET", r"/transfer/v0\.10/operation/endpoint/[^/]+/ls"),
    "mkdir": ("POST", r"/transfer/v0\.10/operation/endpoint/[^/]+/mkdir"),
    "stat": ("GET", r"/transfer/v0\.10/operation/endpoint/[^/]+/stat"),
}
"""Route name to (HTTP method, path regular expression), both matched exactly."""

TRANSFER_ROUTE = "transfer"
"""The route name that matches every request below ``/transfer/``."""

ROUTE_NAMES = (*ROUTES, TRANSFER_ROUTE)

ENDING_KINDS = frozenset({"error", "drop"})
"""Fault kinds that end the request: no fault registered after them fires on it."""

_COMPILED_ROUTES = {name: (method, re.compile(pattern + "/?")) for name, (method, pattern) in ROUTES.items()}

TRANSFER_ERROR_CODES = {
    400: "ClientError.BadRequest",
    401: "AuthenticationFailed",
    403: "PermissionDenied",
    404: "ClientError.NotFound",
    409: "ClientError.Conflict",
    429: "ClientError.RequestLimitExceeded",
    500: "ServerError.InternalError",
    502: "ExternalError.Unavailable",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
"""Default Transfer error ``code`` per HTTP status.

The 400, 401, 403 and 404 codes are those this service's routes send.
NOTE: the 429, 500, 502 and 504 codes are guesses at Transfer's codes.
"""

OAUTH_ERROR_CODES = {
    400: "invalid_request",
    401: "invalid_client",
    403: "unauthorized_client",
    429: "rate_limited",
    503: "temporarily_unavailable",
}
"""Default OAuth ``error`` per HTTP status for the token route; other 5xx are ``server_error``.

NOTE: the codes come from RFC 6749 except ``rate_limited``, a guess at what
Globus Auth sends with 429.
"""


def route_names_for(method: str, path: str) -> tuple[str, ...]:
    """Return the route names that a request matches, the specific name first."""
    names = [
        name
        for name, (route_method, pattern) in _COMPILED_ROUTES.items()
        if route_method == method and pattern.fullmatch(path)
    ]
    if path.startswith("/transfer/"):
        names.append(TRANSFER_ROUTE)
    return tuple(names)


def check_route(route: str) -> str:
    """Return ``route`` when it is a route name; raise ValueError naming the valid ones."""
    if route not in ROUTE_NAMES:
        raise ValueError(f"unknown route {route!r}; use one of: {', '.join(ROUTE_NAMES)}")
    return route


def default_error_code(route: str, status: int) -> str:
    """Return the error code that an injected ``status`` carries on ``route`` by default."""
    if route == "token":
        return OAUTH_ERROR_CODES.get(status, "server_error" if status >= 500 else "invalid_request")
    return TRANSFER_ERROR_CODES.get(status, "ServerError" if status >= 500 else "ClientError")


@dataclasses.dataclass(frozen=True)
class ErrorSpec:
    """The response of an injected error; ``retry_after`` is seconds for the Retry-After header."""

    status: int
    code: str | None
    message: str | None
    retry_after: float | None


class FaultHandle:
    """A registered fault. ``served`` counts how often it fired; :meth:`remove` ends it.

    ``kind`` is ``error``, ``latency``, ``drop`` or ``hold``.
    """

    def __init__(
        self,
        registry: FaultRegistry,
        *,
        kind: str,
        route: str,
        count: int | None = None,
        probability: float | None = None,
        after_processing: bool = False,
        error: ErrorSpec | None = None,
        seconds: float = 0.0,
    ) -> None:
        self.kind = kind
        self.route = route
        self.count = count
        self.probability = probability
        self.after_processing = after_processing
        self.error = error
        self.seconds = seconds
        self._registry = registry
        self._random = registry.new_random()
        self._served = 0
        self._removed = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def __repr__(self) -> str:
        return f"<FaultHandle {self.kind} on {self.route}, served {self.served}>"

    @property
    def served(self) -> int:
        """How many requests this fault fired on."""
        with self._registry.condition:
            return self._served

    @property
    def active(self) -> bool:
        """Whether the fault may still fire: not removed and its ``count`` not used up."""
        with self._registry.condition:
            return not self._removed and (self.count is None or self._served < self.count)

    def remove(self) -> None:
        """Stop the fault from firing and end its pending waits (a latency's sleep, a hold)."""
        with self._registry.condition:
            self._removed = True
            waiters, self._waiters = self._waiters, []
            self._registry.condition.notify_all()
        self._registry.notify_state()
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the event loop already closed, so nothing waits any more
                pass

    def wait_for_served(self, count: int = 1, *, timeout: float = 10.0) -> None:
        """Block until the fault fired ``count`` times; raise TimeoutError after ``timeout`` seconds."""
        self._registry.wait_for(
            lambda: self._served >= count,
            timeout=timeout,
            description=f"{self.kind} fault on {self.route} fired {count} times",
        )

    def try_fire(self) -> bool:
        """Decide whether the fault fires on one more matching request; call with the lock held.

        The random draw happens only while the fault is active, so a spent
        fault does not shift the sequence of another.
        """
        if self._removed or (self.count is not None and self._served >= self.count):
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self._served += 1
        return True

    async def wait_until_removed(self, timeout: float | None = None) -> bool:
        """Wait in the event loop until :meth:`remove` or ``timeout`` seconds; return whether removed."""
        event = asyncio.Event()
        loop = asyncio.get_running_loop()
        with self._registry.condition:
            if self._removed:
                return True
            self._waiters.append((loop, event))
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            with self._registry.condition:
                if (loop, event) in self._waiters:
                    self._waiters.remove((loop, event))
        return True


class HoldHandle(FaultHandle):
    """A hold on a route: matching requests wait until :meth:`release`.

    ``held`` is the number waiting now, ``served`` the number held so far and
    ``discarded`` the number whose client disconnected while held. A request
    held before processing is then never processed. A request held after
    processing loses its response.
    """

    def __init__(self, registry: FaultRegistry, *, route: str, after_processing: bool) -> None:
        super().__init__(registry, kind="hold", route=route, after_processing=after_processing)
        self._held = 0
        self._discarded = 0

    @property
    def held(self) -> int:
        """How many requests wait on this hold now."""
        with self._registry.condition:
            return self._held

    @property
    def discarded(self) -> int:
        """How many held requests were dropped because their client disconnected."""
        with self._registry.condition:
            return self._discarded

    def release(self) -> None:
        """Let every held request go on and hold no more; the same as :meth:`remove`."""
        self.remove()

    def wait_for_held(self, count: int = 1, *, timeout: float = 10.0) -> None:
        """Block until ``count`` requests wait on the hold; raise TimeoutError after ``timeout`` seconds."""
        self._registry.wait_for(
            lambda: self._held >= count,
            timeout=timeout,
            description=f"{count} requests held on {self.route}",
        )

    def wait_for_discarded(self, count: int = 1, *, timeout: float = 10.0) -> None:
        """Block until ``count`` held requests were discarded; raise TimeoutError after ``timeout`` seconds."""
        self._registry.wait_for(
            lambda: self._discarded >= count,
            timeout=timeout,
            description=f"{count} held requests on {self.route} discarded",
        )

    def count_held(self, change: int) -> None:
        """Add ``change`` (1 or -1) to the requests held now."""
        with self._registry.condition:
            self._held += change
            self._registry.condition.notify_all()
        self._registry.notify_state()

    def count_discarded(self) -> None:
        """Count one held request whose client disconnected."""
        with self._registry.condition:
            self._discarded += 1
            self._registry.condition.notify_all()
        self._registry.notify_state()


class FaultRegistry:
    """The registered faults of one service, in registration order, behind one Condition.

    ``on_change`` runs after every change (a fault fired, a request held),
    so waiters on the service state check their predicates again too.
    """

    def __init__(self, *, seed: int, on_change: Callable[[], None] = lambda: None) -> None:
        self.condition = threading.Condition()
        self.seed = seed
        self.closing = False
        self._on_change = on_change
        self._faults: list[FaultHandle] = []
        self._fault_numbers = itertools.count()

    def new_random(self) -> random.Random:
        """Return the random generator for the next fault: seeded by ``seed`` and its number."""
        with self.condition:
            return random.Random(f"{self.seed}:{next(self._fault_numbers)}")

    def add(self, handle: FaultHandle) -> None:
        """Register a fault; it fires after those registered before it."""
        with self.condition:
            if self.closing:
                raise RuntimeError("the local Globus service is stopping; faults can no longer be added")
            self._faults.append(handle)
            self.condition.notify_all()
        self.notify_state()

    def select(self, route_names: tuple[str, ...]) -> list[FaultHandle]:
        """Return the faults that fire on a request matching ``route_names``, in registration order.

        The first error or dropped connection that fires ends the request, so
        the faults after it are not tried and their ``served`` does not grow.
        """
        with self.condition:
            fired = []
            for handle in self._faults:
                if handle.route not in route_names or not handle.try_fire():
                    continue
                fired.append(handle)
                if handle.kind in ENDING_KINDS:
                    break
            self._faults = [handle for handle in self._faults if handle.active]
            if fired:
                self.condition.notify_all()
        if fired:
            self.notify_state()
        return fired

    def close(self) -> None:
        """Remove every fault, ending their waits; held requests are then dropped unprocessed."""
        with self.condition:
            self.closing = True
            faults, self._faults = self._faults, []
        for handle in faults:
            handle.remove()

    def notify_state(self) -> None:
        """Run ``on_change``; call without ``condition`` held.

        ``on_change`` takes the service state's lock, and a ``wait_until``
        predicate holds that lock while it reads a handle, so holding both
        here in the other order could deadlock.
        """
        self._on_change()

    def wait_for(self, predicate: Callable[[], bool], *, timeout: float, description: str) -> None:
        """Block until ``predicate()`` is true; raise TimeoutError naming ``description``."""
        with self.condition:
            if not self.condition.wait_for(predicate, timeout=timeout):
                raise TimeoutError(f"{description} did not happen within {timeout} s")
