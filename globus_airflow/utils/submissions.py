"""Exactly-once submission: remember what each Airflow task instance submitted.

An Airflow task can crash, be retried or be cleared while its Globus task
runs on. Before submitting, the operator asks :class:`SubmissionTracker`
whether an earlier try already submitted a task. Two records make that
lookup reliable:

* On Airflow 3.3 and later, the task instance's ``task_state_store`` keeps
  the submission id (saved before the submit request) and the task id.
* On every version, the task label carries a key derived from the dag id,
  run id, task id and map index, and a ``task_list`` filter on that key
  finds a task that was submitted but never recorded.

A submission id is Globus's idempotency key: sending the same document
again with it returns ``Duplicate`` and the original task id, and Globus
runs the task once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

import globus_sdk

from globus_airflow.utils.validation import MAX_LABEL_LENGTH

log = logging.getLogger(__name__)

SUBMISSION_ID_KEY = "globus_submission_id"
TASK_ID_KEY = "globus_task_id"
LABEL_KEY_PREFIX = "af-"
"""Start of the key that ties a Globus task label to an Airflow task instance."""

_UNSAFE_LABEL_CHARACTERS = re.compile(r"[^A-Za-z0-9 _.,:+=@()\-]+")


def label_key(*, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """Return the short, deterministic key of one Airflow task instance, e.g. ``af-1a2b...``."""
    identity = f"{dag_id}\x00{run_id}\x00{task_id}\x00{map_index}"
    return LABEL_KEY_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:20]


def label_with_key(label: str | None, key: str, *, default: str) -> str:
    """Append ``[key]`` to a label, shortening the label so the result fits in 128 characters.

    Characters outside a conservative set are replaced by ``_`` so that the
    label Globus stores is the label the filter looks for.
    """
    base = _UNSAFE_LABEL_CHARACTERS.sub("_", label or default).strip()
    suffix = f" [{key}]"
    base = base[: MAX_LABEL_LENGTH - len(suffix)].rstrip()
    return f"{base}{suffix}"


@dataclasses.dataclass
class PriorTask:
    """A Globus task that an earlier try of the same task instance submitted."""

    globus_task_id: str
    status: str
    document: dict[str, Any]


class SubmissionTracker:
    """Find and record the Globus task of one Airflow task instance.

    :param client: an authorized Transfer client
    :param key: the task instance's label key, see :func:`label_key`
    :param state_store: the ``task_state_store`` of the context on Airflow
        3.3 and later, or ``None``
    :param task_type: ``TRANSFER`` or ``DELETE``, to narrow the label lookup
    """

    def __init__(
        self,
        client: globus_sdk.TransferClient,
        *,
        key: str,
        state_store: Any | None,
        task_type: str,
    ) -> None:
        self.client = client
        self.key = key
        self.state_store = state_store
        self.task_type = task_type

    @classmethod
    def from_context(
        cls, client: globus_sdk.TransferClient, context: Mapping[str, Any], *, task_type: str
    ) -> SubmissionTracker:
        """Build a tracker for the task instance that ``context`` belongs to."""
        ti = context["ti"]
        key = label_key(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=getattr(ti, "map_index", -1),
        )
        return cls(client, key=key, state_store=context.get("task_state_store"), task_type=task_type)

    def find_prior_task(self) -> PriorTask | None:
        """Return the newest task an earlier try submitted, or ``None``."""
        recorded = self._get(TASK_ID_KEY)
        if recorded:
            document = dict(self.client.get_task(recorded).data)
            return PriorTask(recorded, document["status"], document)

        response = self.client.task_list(
            filter={"label": f"~{self.key}", "type": self.task_type},
            orderby="request_time DESC",
            limit=1,
        )
        for document in response:
            return PriorTask(document["task_id"], document["status"], dict(document))
        return None

    def pending_submission_id(self) -> str | None:
        """Return a submission id saved before a submit whose result was never recorded."""
        if self._get(TASK_ID_KEY):
            return None
        return self._get(SUBMISSION_ID_KEY)

    def new_submission_id(self) -> str:
        """Get a fresh submission id from Globus and save it before it is used."""
        submission_id = self.client.get_submission_id()["value"]
        self._set(TASK_ID_KEY, "")  # the store rejects None, and "" reads as no task
        self._set(SUBMISSION_ID_KEY, submission_id)
        return submission_id

    def record_task(self, globus_task_id: str) -> None:
        """Save the task id that the submission returned."""
        self._set(TASK_ID_KEY, globus_task_id)

    def _get(self, name: str) -> Any:
        if self.state_store is None:
            return None
        return self.state_store.get(name)

    def _set(self, name: str, value: Any) -> None:
        if self.state_store is not None:
            self.state_store.set(name, value)
