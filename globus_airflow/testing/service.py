"""LocalGlobusService: a real HTTP server on loopback that plays Globus Auth and Transfer.

The server runs uvicorn in a background thread on a socket bound here, so port 0
works and the port is known before serving. Tasks really copy and delete files
between directories that stand in for collections.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from globus_airflow.testing import access
from globus_airflow.testing.app import build_app
from globus_airflow.testing.documents import task_document
from globus_airflow.testing.fault_controls import FaultControls
from globus_airflow.testing.faults import FaultRegistry
from globus_airflow.testing.runner import TaskScheduler
from globus_airflow.testing.state import ClientRecord, Collection, RequestHook, ServiceState, ServiceStats
from globus_airflow.testing.task_states import TaskStateControls

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_LIFETIME = 172800
DEFAULT_RETRY_INTERVAL = 10.0
STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 10.0


def check_loopback_host(host: str) -> str:
    """Return the address to bind for ``host``; raise ValueError unless it is loopback.

    ``localhost`` maps to 127.0.0.1. Any other name or a non-loopback address is
    rejected, because the service has no authentication worth exposing.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError as error:
        raise ValueError(f"host must be a loopback IP address such as 127.0.0.1 or ::1, got {host!r}") from error
    if not address.is_loopback:
        raise ValueError(f"host must be a loopback address such as 127.0.0.1 or ::1, got {host!r}")
    return str(address)


class _NotifyingServer(uvicorn.Server):
    """A uvicorn server that sets an event once it listens, so start() need not poll."""

    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._started_event.set()


class LocalGlobusService(TaskStateControls, FaultControls):
    """A local Globus Auth and Transfer service for demos, tests and offline DAG runs.

    ``collections`` maps collection names to directories (created when missing);
    they are mapped collections, and :meth:`add_collection` adds other kinds.
    ``bandwidth_limit`` is bytes per second per task (None: unlimited).
    ``token_lifetime`` is the access token lifetime in seconds. A missing
    ``client_id`` or ``client_secret`` is generated at random. ``host`` must be a
    loopback address and ``port`` 0 picks a free port. ``retry_interval`` is the
    service-clock seconds a task waits before retrying a fault.

    Tests impose task states with the methods of :class:`TaskStateControls`
    (``stall_task``, ``make_inactive``, ``admin_pause``, ``admin_cancel``,
    ``expire_task`` and more) and inject faults into requests with those of
    :class:`FaultControls` (``inject_error``, ``add_latency``,
    ``drop_connections``, ``hold_requests``). ``seed`` seeds the faults that
    fire with a probability.
    """

    def __init__(
        self,
        collections: Mapping[str, str | Path] | None = None,
        *,
        bandwidth_limit: int | None = None,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        client_id: str | None = None,
        client_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        log_level: str = "warning",
        seed: int = 0,
    ) -> None:
        if bandwidth_limit is not None and bandwidth_limit <= 0:
            raise ValueError(f"bandwidth_limit must be a positive number of bytes per second or None, got {bandwidth_limit}")
        if token_lifetime <= 0:
            raise ValueError(f"token_lifetime must be a positive number of seconds, got {token_lifetime}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        if retry_interval <= 0:
            raise ValueError(f"retry_interval must be positive, got {retry_interval}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")

        self._host = check_loopback_host(host)
        self._requested_port = port
        self._log_level = log_level
        self._state = ServiceState(
            token_lifetime=token_lifetime,
            bandwidth_limit=bandwidth_limit,
            retry_interval=retry_interval,
        )
        self._scheduler = TaskScheduler(self._state)
        self._faults = FaultRegistry(seed=seed, on_change=self._state.notify)
        self._client = self._state.add_client(client_id, client_secret)
        for name, directory in (collections or {}).items():
            self._state.add_collection(name, directory)

        self._socket: socket.socket | None = None
        self._server: _NotifyingServer | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> LocalGlobusService:
        """Bind the socket, start serving in a background thread and return self.

        Raise RuntimeError when already started or when the server fails to start.
        """
        if self._thread is not None:
            raise RuntimeError("the local Globus service is already started")
        if self._state.stopping:
            raise RuntimeError("a stopped local Globus service cannot be restarted; create a new one")

        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self._host, self._requested_port))
        except OSError:
            listener.close()
            raise
        self._socket = listener
        self._port = listener.getsockname()[1]
        self._state.base_url = self._base_url()

        config = uvicorn.Config(
            build_app(self._state, self._scheduler, faults=self._faults),
            log_config=None,
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        started = threading.Event()
        self._server = _NotifyingServer(config, started)

        def serve() -> None:
            try:
                self._server.run(sockets=[listener])  # type: ignore[union-attr]
            except BaseException:  # noqa: BLE001 - logged, then start() reports the failure
                logger.exception("local Globus service on port %s stopped with an error", self._port)
            finally:
                started.set()

        self._thread = threading.Thread(target=serve, name=f"local-globus-{self._port}", daemon=True)
        self._thread.start()
        if not started.wait(timeout=STARTUP_TIMEOUT) or not self._server.started:
            self.stop()
            raise RuntimeError(f"the local Globus service did not start on {self._base_url()}")
        logger.info("local Globus service listening on %s", self._base_url())
        return self

    def stop(self) -> None:
        """Stop task runners and the server thread; safe to call more than once.

        Requests held by ``hold_requests`` are dropped unprocessed.
        """
        self._faults.close()
        self._scheduler.stop(timeout=SHUTDOWN_TIMEOUT)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_TIMEOUT)
            if self._thread.is_alive():
                logger.warning("local Globus service thread did not stop within %ss", SHUTDOWN_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> LocalGlobusService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and credentials ---------------------------------------------------------

    def _base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def _require_started(self) -> str:
        if self._port is None:
            raise RuntimeError("the local Globus service is not started: call start() or use it as a context manager")
        return self._base_url()

    @property
    def port(self) -> int:
        """The TCP port the service listens on."""
        self._require_started()
        assert self._port is not None
        return self._port

    @property
    def auth_url(self) -> str:
        """Base URL for ``ConfidentialAppAuthClient(base_url=...)``."""
        return self._require_started() + "/auth/"

    @property
    def transfer_url(self) -> str:
        """Base URL for ``TransferClient(base_url=...)``; routes live under ``v0.10/``."""
        return self._require_started() + "/transfer/"

    @property
    def web_app_url(self) -> str:
        """Base URL of the HTML pages; ``activity/{task_id}`` shows one task."""
        return self._require_started() + "/app/"

    @property
    def retry_interval(self) -> float:
        """Service-clock seconds a task waits before retrying a fault."""
        return self._state.retry_interval

    @property
    def client_id(self) -> str:
        """The id of the default confidential client, which is also its identity id."""
        return self._client.client_id

    @property
    def client_secret(self) -> str:
        """The secret of the default confidential client."""
        return self._client.client_secret

    def add_client(self, client_id: str | None = None, client_secret: str | None = None) -> tuple[str, str]:
        """Register another confidential client and return (client_id, client_secret)."""
        record: ClientRecord = self._state.add_client(client_id, client_secret)
        return record.client_id, record.client_secret

    def connection_extra(self) -> dict[str, str]:
        """Return the ``extra`` of an Airflow ``globus`` connection to this service."""
        return {
            "auth_base_url": self.auth_url,
            "transfer_base_url": self.transfer_url,
            "web_app_url": self.web_app_url,
        }

    def connection_json(self) -> str:
        """Return the JSON value for ``AIRFLOW_CONN_GLOBUS_DEFAULT``."""
        return json.dumps(
            {
                "conn_type": "globus",
                "login": self.client_id,
                "password": self.client_secret,
                "extra": self.connection_extra(),
            }
        )

    # -- collections -------------------------------------------------------------------------

    def add_collection(self, name: str, directory: str | Path, *, kind: str = access.DEFAULT_COLLECTION_KIND) -> str:
        """Serve ``directory`` (created when missing) as collection ``name``; return its id.

        ``kind`` is ``mapped`` (the default: Transfer requires the collection's
        data_access consent), ``guest`` (an identity needs an access rule, see
        :meth:`grant_access`) or ``high_assurance`` (mapped, without a data_access scope).
        """
        return self._state.add_collection(name, directory, kind=kind).collection_id

    def _collection_named(self, name: str) -> Collection:
        collection = self._state.find_collection(self.collection_id(name))
        assert collection is not None
        return collection

    def grant_access(
        self,
        collection_name: str,
        *,
        identity: str | None = None,
        path: str = "/",
        permissions: str = "rw",
    ) -> None:
        """Add an access rule to a guest collection.

        ``identity`` is a client id or ``<client id>@clients.auth.globus.org``;
        by default, the service's own client. The rule covers ``path`` and
        everything below it; ``permissions`` is ``r`` or ``rw``. Raise
        ValueError for a collection that is not a guest collection, KeyError
        for an unknown name.
        """
        access.add_access_rule(
            self._state,
            self._collection_named(collection_name),
            identity=identity or self.client_id,
            path=path,
            permissions=permissions,
        )

    def refuse_consent(self, collection_name: str) -> None:
        """Make later token grants succeed without the data_access consent of a mapped collection.

        Transfer then keeps responding with ConsentRequired for that collection,
        which is how the service simulates a collection that does not accept the client.
        """
        access.refuse_consent(self._state, self._collection_named(collection_name))

    def transfer_scope(self, *collection_names: str) -> str:
        """Return the Transfer scope with the data_access scopes of mapped collections.

        By default every mapped collection is included; pass names to choose.
        This is the scope a plain globus-sdk client needs to use the collections.
        """
        with self._state.lock:
            collections = list(self._state.collections.values())
        if collection_names:
            collections = [self._collection_named(name) for name in collection_names]
        dependencies = [
            f"*{access.data_access_scope(collection.collection_id)}"
            for collection in collections
            if collection.kind == "mapped"
        ]
        if not dependencies:
            return access.TRANSFER_SCOPE
        return f"{access.TRANSFER_SCOPE}[{' '.join(dependencies)}]"

    def collection_id(self, name: str) -> str:
        """Return the id of a registered collection: uuid5 of a fixed namespace and ``name``."""
        with self._state.lock:
            for collection in self._state.collections.values():
                if collection.name == name:
                    return collection.collection_id
            known = ", ".join(sorted(c.name for c in self._state.collections.values())) or "none"
        raise KeyError(f"no collection named {name!r}; registered collections: {known}")

    # -- tasks -------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> dict[str, Any]:
        """Return the task document as Transfer returns it; raise KeyError for an unknown id."""
        with self._state.lock:
            task = self._state.find_task(task_id)
            if task is None:
                raise KeyError(f"no task {task_id!r}")
            return task_document(task, now=self._state.now())

    def tasks(self) -> list[dict[str, Any]]:
        """Return the documents of every task of every client, oldest first."""
        with self._state.lock:
            return [task_document(task, now=self._state.now()) for task in self._state.tasks_of(None)]

    def wait_for_task(
        self,
        task_id: str,
        *,
        statuses: Iterable[str] = ("SUCCEEDED", "FAILED"),
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Block until the task's status is one of ``statuses``; return its document.

        Waits on the state's Condition, without polling. Raise TimeoutError naming
        the task and its state after ``timeout`` seconds, KeyError for an unknown id.
        """
        expected_statuses = {statuses} if isinstance(statuses, str) else set(statuses)
        task = self._state.find_task(task_id)
        if task is None:
            raise KeyError(f"no task {task_id!r}")
        reached = self._state.wait_for(lambda: task.status in expected_statuses, timeout=timeout)
        document = self.get_task(task_id)
        if not reached:
            raise TimeoutError(
                f"task {task_id} is still {document['status']} (nice_status {document['nice_status']}) "
                f"after {timeout} s; expected one of {sorted(expected_statuses)}"
            )
        return document

    def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 60.0, description: str = "condition") -> None:
        """Block until ``predicate()`` is true, re-checking after every state change and request.

        The predicate runs with the state lock held and may call ``get_task``.
        Raise TimeoutError naming ``description`` after ``timeout`` seconds.
        """
        if not self._state.wait_for(predicate, timeout=timeout):
            raise TimeoutError(f"{description} did not become true within {timeout} s")

    def hold_tasks(self) -> None:
        """Pause all task progress: running tasks stay ACTIVE until release_tasks()."""
        with self._state.lock:
            self._state.held = True
            self._state.notify()

    def release_tasks(self) -> None:
        """Let held tasks go on."""
        with self._state.lock:
            self._state.held = False
            self._state.notify()

    # -- controls for tests --------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> None:
        """Move the service clock forward: fires retry timers, deadlines and token expiry."""
        self._state.advance_clock(seconds)

    def expire_tokens(self) -> None:
        """Expire every access token issued so far."""
        self._state.expire_tokens()

    def add_request_hook(self, hook: RequestHook) -> Callable[[], None]:
        """Run ``hook(method, path)`` before each request; return a function that removes it.

        A hook returns None to let the request through or (status, JSON body) to
        respond with instead.
        """
        with self._state.lock:
            self._state.request_hooks.append(hook)

        def remove() -> None:
            with self._state.lock:
                if hook in self._state.request_hooks:
                    self._state.request_hooks.remove(hook)

        return remove

    @property
    def stats(self) -> ServiceStats:
        """A snapshot of the counters: token grants and their scopes, submissions, requests per route."""
        return self._state.stats()
