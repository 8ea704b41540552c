"""The shared state of the local Globus service: clients, tokens, collections and tasks.

One :class:`ServiceState` holds everything behind a single re-entrant lock.
``state.changed`` is a Condition on that lock: every mutation calls
:meth:`ServiceState.notify`, so waiters (task runners, ``wait_for_task`` and
fault hooks added later) re-check their predicate instead of polling.
"""

from __future__ import annotations

import dataclasses
import hmac
import itertools
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from globus_airflow.testing.access import DEFAULT_COLLECTION_KIND, AccessControls, check_kind
from globus_airflow.testing.tasks import TaskRecord

# Collection ids are uuid5(COLLECTION_NAMESPACE, name), so a DAG can hard-code the
# id of a collection it refers to by name. Changing this constant changes every id.
COLLECTION_NAMESPACE = uuid.UUID("8942115b-5a65-4829-b50f-afbddaf813e9")

# Globus lets one identity run this many tasks at once; the others wait as "Queued".
MAX_ACTIVE_TASKS_PER_IDENTITY = 3

# Called with (method, path) before routing. It returns None to let the request
# through, or (status, JSON body) to respond with instead of running the route.
RequestHook = Callable[[str, str], "tuple[int, dict[str, Any]] | None"]


def collection_id_for(name: str) -> str:
    """Return the deterministic collection id for a collection name."""
    return str(uuid.uuid5(COLLECTION_NAMESPACE, name))


@dataclasses.dataclass(frozen=True)
class Collection:
    """A directory served as a Globus collection; ``root`` is its resolved real path.

    ``kind`` is ``mapped``, ``guest`` or ``high_assurance`` (see ``testing.access``).
    """

    collection_id: str
    name: str
    root: Path
    kind: str = DEFAULT_COLLECTION_KIND


@dataclasses.dataclass(frozen=True)
class ClientRecord:
    """A confidential client; its identity id equals its client id, as in Globus Auth."""

    client_id: str
    client_secret: str


@dataclasses.dataclass
class TokenRecord:
    """An issued access token; ``expires_at`` is on the service clock."""

    client_id: str
    resource_server: str
    scopes: tuple[str, ...]
    dependent_scopes: tuple[str, ...]
    expires_at: float


@dataclasses.dataclass(frozen=True)
class ServiceStats:
    """Counters since the service was created.

    ``requests`` maps ``"METHOD /route/template"`` (or ``"METHOD <unmatched>"``)
    to the number of requests received.
    """

    token_grants: int
    token_rejections: int
    submissions_accepted: int
    submissions_duplicate: int
    requests: dict[str, int]
    token_grant_scopes: tuple[str, ...] = ()
    """The scope string that each granted token request asked for, oldest first."""


class ServiceState:
    """All state of the service, guarded by ``lock``.

    Call methods that mutate state while holding ``lock`` or through the methods
    here, which take it themselves. The lock is re-entrant so that predicates
    passed to :meth:`wait_for` may call other methods.
    """

    def __init__(
        self,
        *,
        token_lifetime: int,
        bandwidth_limit: int | None,
        retry_interval: float,
    ) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.token_lifetime = token_lifetime
        self.bandwidth_limit = bandwidth_limit
        self.retry_interval = retry_interval

        self.clock_offset = 0.0
        self.held = False
        self.stopping = False

        self.clients: dict[str, ClientRecord] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.collections: dict[str, Collection] = {}
        self.submission_ids: dict[str, set[str]] = {}
        self.submitted: dict[tuple[str, str], str] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.request_hooks: list[RequestHook] = []
        self.access = AccessControls()
        self.base_url = ""

        self._sequence = itertools.count(1)
        self._token_grants = 0
        self._token_rejections = 0
        self._token_grant_scopes: list[str] = []
        self._accepted = 0
        self._duplicates = 0
        self._requests: Counter[str] = Counter()

    # -- clock ---------------------------------------------------------------

    def now(self) -> float:
        """Return the service clock: wall time plus what :meth:`advance_clock` added."""
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the service clock forward, waking retry timers, deadlines and expiries."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}")
        with self.lock:
            self.clock_offset += seconds
            self.notify()

    def notify(self) -> None:
        """Wake every waiter on ``changed``; call after each mutation."""
        with self.lock:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], *, timeout: float) -> bool:
        """Block until ``predicate()`` is true or ``timeout`` seconds pass; return its value.

        The predicate runs with ``lock`` held, after each state change.
        """
        with self.lock:
            return self.changed.wait_for(predicate, timeout=timeout)

    # -- collections -----------------------------------------------------------

    def add_collection(self, name: str, directory: str | Path, *, kind: str = DEFAULT_COLLECTION_KIND) -> Collection:
        """Register ``directory`` (created when missing) as the collection ``name``.

        Registering the same name, directory and kind again returns the existing
        collection. Raise ValueError for an empty name, an unknown kind, or a
        name bound to another directory or kind.
        """
        check_kind(kind)
        if not name or "/" in name:
            raise ValueError(f"invalid collection name {name!r}: use a non-empty name without '/'")

        path = Path(directory).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        root = path.resolve(strict=True)
        if not root.is_dir():
            raise ValueError(f"collection {name!r}: {root} is not a directory")

        collection = Collection(collection_id=collection_id_for(name), name=name, root=root, kind=kind)
        with self.lock:
            existing = self.collections.get(collection.collection_id)
            if existing is not None and existing.root != root:
                raise ValueError(
                    f"collection {name!r} is already bound to {existing.root}, not {root}"
                )
            if existing is not None and existing.kind != kind:
                raise ValueError(f"collection {name!r} is already a {existing.kind} collection, not {kind}")
            self.collections[collection.collection_id] = collection
            self.notify()
        return collection

    def find_collection(self, collection_id: str) -> Collection | None:
        """Return the collection with this id, or None."""
        with self.lock:
            return self.collections.get(collection_id)

    # -- clients and tokens ----------------------------------------------------

    def add_client(self, client_id: str | None = None, client_secret: str | None = None) -> ClientRecord:
        """Register a confidential client; a missing id or secret is generated."""
        record = ClientRecord(
            client_id=client_id or str(uuid.uuid4()),
            client_secret=client_secret or secrets.token_urlsafe(32),
        )
        with self.lock:
            self.clients[record.client_id] = record
        return record

    def check_client(self, client_id: str, client_secret: str) -> bool:
        """Return whether the credentials match a registered client, in constant time."""
        with self.lock:
            record = self.clients.get(client_id)
        expected = record.client_secret if record is not None else secrets.token_urlsafe(32)
        matches = hmac.compare_digest(expected.encode(), client_secret.encode())
        return record is not None and matches

    def issue_token(
        self,
        *,
        client_id: str,
        resource_server: str,
        scopes: tuple[str, ...],
        dependent_scopes: tuple[str, ...],
    ) -> tuple[str, TokenRecord]:
        """Store and return a new random access token valid for ``token_lifetime`` seconds."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            record = TokenRecord(
                client_id=client_id,
                resource_server=resource_server,
                scopes=scopes,
                dependent_scopes=dependent_scopes,
                expires_at=self.now() + self.token_lifetime,
            )
            self.tokens[token] = record
        return token, record

    def lookup_token(self, token: str) -> TokenRecord | None:
        """Return the record of an unexpired token, or None."""
        with self.lock:
            record = self.tokens.get(token)
            if record is None or record.expires_at <= self.now():
                return None
            return record

    def expire_tokens(self) -> None:
        """Expire every issued token now."""
        with self.lock:
            now = self.now()
            for record in self.tokens.values():
                record.expires_at = min(record.expires_at, now)
            self.notify()

    def count_token_grant(self, *, granted: bool, scope: str | None = None) -> None:
        """Count one token request as granted or rejected; ``scope`` is what a granted one asked for."""
        with self.lock:
            if granted:
                self._token_grants += 1
                self._token_grant_scopes.append(scope or "")
            else:
                self._token_rejections += 1

    # -- submissions and tasks ---------------------------------------------------

    def issue_submission_id(self, owner_id: str) -> str:
        """Return a new submission id that ``owner_id`` may submit once."""
        submission_id = str(uuid.uuid4())
        with self.lock:
            self.submission_ids.setdefault(owner_id, set()).add(submission_id)
        return submission_id

    def is_issued(self, owner_id: str, submission_id: str) -> bool:
        """Return whether ``submission_id`` was issued to ``owner_id``."""
        with self.lock:
            return submission_id in self.submission_ids.get(owner_id, set())

    def find_submitted(self, owner_id: str, submission_id: str) -> str | None:
        """Return the task id created for this submission, or None; counts a duplicate."""
        with self.lock:
            task_id = self.submitted.get((owner_id, submission_id))
            if task_id is not None:
                self._duplicates += 1
            return task_id

    def next_sequence(self) -> int:
        """Return the next submission order number."""
        with self.lock:
            return next(self._sequence)

    def add_task(self, task: TaskRecord) -> None:
        """Store a new task for its submission id and count it as accepted."""
        with self.lock:
            self.tasks[task.task_id] = task
            self.submitted[(task.owner_id, task.submission_id)] = task.task_id
            self._accepted += 1
            self.notify()

    def find_task(self, task_id: str) -> TaskRecord | None:
        """Return the task with this id, or None."""
        with self.lock:
            return self.tasks.get(task_id)

    def tasks_of(self, owner_id: str | None) -> list[TaskRecord]:
        """Return the tasks of ``owner_id``, or of everyone when it is None, oldest first."""
        with self.lock:
            found = [
                task
                for task in self.tasks.values()
                if owner_id is None or task.owner_id == owner_id
            ]
        return sorted(found, key=lambda task: task.sequence)

    # -- statistics ------------------------------------------------------------

    def count_request(self, route: str) -> None:
        """Count one HTTP request for a route key such as ``"GET /transfer/v0.10/task_list"``.

        Waiters are woken too, so a predicate that depends on request traffic
        (or on a request hook's own counters) is re-checked.
        """
        with self.lock:
            self._requests[route] += 1
            self.notify()

    def stats(self) -> ServiceStats:
        """Return a snapshot of the counters."""
        with self.lock:
            return ServiceStats(
                token_grants=self._token_grants,
                token_rejections=self._token_rejections,
                submissions_accepted=self._accepted,
                submissions_duplicate=self._duplicates,
                requests=dict(self._requests),
                token_grant_scopes=tuple(self._token_grant_scopes),
            )
