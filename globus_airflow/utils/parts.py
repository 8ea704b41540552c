"""Split a long item list into several Globus tasks and judge them as one.

With ``max_items_per_task`` an operator submits its items as parts: Globus
tasks of at most that many items each, labelled ``<label> part 2 of 5``. Each
part has its own label key and its own records in the task instance's
state store, so a retry reattaches to every part already submitted and
submits only the missing ones. The parts are waited on together, and the
Airflow task succeeds only when every part succeeded.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import globus_sdk

from globus_airflow.exceptions import GlobusTaskError, GlobusTaskFatalError
from globus_airflow.utils.outcome import Outcome, Verdict, summarize
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT
from globus_airflow.utils.submissions import LABEL_KEY_PREFIX, label_with_key
from globus_airflow.utils.validation import MAX_LABEL_LENGTH
from globus_airflow.utils.waiting import TaskPoller

DocumentT = TypeVar("DocumentT", bound=Mapping[str, Any])

COUNTER_FIELDS = ("files_transferred", "files_skipped", "directories", "files", "bytes_transferred")
"""Summary counters that the combined summary adds up over the parts."""


def split_document(document: DocumentT, max_items: int | None) -> list[DocumentT]:
    """Split a task document into copies of at most ``max_items`` items each.

    Every copy keeps the document's other fields, such as options and filter
    rules. ``None`` or a list that fits returns ``[document]`` unchanged.
    """
    items = document["DATA"]
    if max_items is None or len(items) <= max_items:
        return [document]

    parts = []
    for start in range(0, len(items), max_items):
        part = copy.copy(document)
        part["DATA"] = items[start : start + max_items]  # type: ignore[index]
        parts.append(part)
    return parts


def part_key(key: str, index: int) -> str:
    """Return the label key of part ``index`` (from 0), derived from the task instance's key.

    The result is a fresh hash rather than ``key`` plus a number, so that the
    substring lookup for one part's key never matches another part's label.
    """
    digest = hashlib.sha256(f"{key}\x00part\x00{index}".encode()).hexdigest()
    return LABEL_KEY_PREFIX + digest[:20]


def part_label(label: str | None, key: str, *, index: int, count: int, default: str) -> str:
    """Return the label of one part: ``<label> part 2 of 5 [<key>]``, at most 128 characters.

    The label is shortened first, so the part number and key always survive.
    """
    # Not "2/5", because label_with_key replaces "/" with "_".
    part = f" part {index + 1} of {count}"
    room = MAX_LABEL_LENGTH - len(f" [{key}]") - len(part)
    base = (label or default)[:room].rstrip()
    return label_with_key(base + part, key, default=default)


class PartStateStore:
    """A task instance's state store whose names carry a part number.

    :class:`~globus_airflow.utils.submissions.SubmissionTracker` saves its
    submission id and task id under fixed names; this view gives each part
    its own names, such as ``globus_task_id.part3``.
    """

    def __init__(self, store: Any, index: int) -> None:
        self._store = store
        self._suffix = f".part{index + 1}"

    def get(self, name: str) -> Any:
        return self._store.get(name + self._suffix)

    def set(self, name: str, value: Any) -> None:
        self._store.set(name + self._suffix, value)


def part_result(index: int, task: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    """Describe one part's final outcome as a JSON-ready dict."""
    return {
        "part": index + 1,
        "globus_task_id": task["task_id"],
        "status": task["status"],
        "verdict": outcome.verdict.value,
        "message": outcome.message,
        "code": outcome.code,
        "summary": summarize(task),
        "request_time": task.get("request_time"),
        "completion_time": task.get("completion_time"),
    }


class PartsPoller:
    """Read several Globus tasks until each one has an outcome other than WAIT.

    Each task has its own :class:`~globus_airflow.utils.waiting.TaskPoller`,
    so stall detection and progress lines work per task. A task with an
    outcome is not read again.
    """

    def __init__(
        self,
        client: globus_sdk.TransferClient,
        globus_task_ids: Sequence[str],
        *,
        logger: logging.Logger,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = 300.0,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
    ) -> None:
        self.globus_task_ids = list(globus_task_ids)
        self._pollers = [
            TaskPoller(
                client,
                globus_task_id,
                logger=logger,
                stall_timeout=stall_timeout,
                heartbeat_interval=heartbeat_interval,
                transient_error_budget=transient_error_budget,
            )
            for globus_task_id in self.globus_task_ids
        ]
        self._results: dict[int, dict[str, Any]] = {}
        self._statuses: dict[int, str] = {}

    def poll(self) -> bool:
        """Read every task that has no outcome yet; return whether all have one now."""
        for index, poller in enumerate(self._pollers):
            if index in self._results:
                continue
            task, outcome = poller.poll()
            self._statuses[index] = task["status"]
            if outcome.verdict is not Verdict.WAIT:
                self._results[index] = part_result(index, task, outcome)
        return self.done

    @property
    def done(self) -> bool:
        """Whether every task has an outcome."""
        return len(self._results) == len(self._pollers)

    @property
    def results(self) -> list[dict[str, Any]]:
        """The outcomes so far, in part order."""
        return [self._results[index] for index in sorted(self._results)]

    @property
    def waiting_ids(self) -> list[str]:
        """The ids of the tasks that have no outcome yet."""
        return [
            globus_task_id
            for index, globus_task_id in enumerate(self.globus_task_ids)
            if index not in self._results
        ]

    def describe_waiting(self) -> str:
        """Name the tasks still waited on with their last status, for timeout messages."""
        return ", ".join(
            f"part {index + 1} ({globus_task_id}, {self._statuses.get(index, 'not read')})"
            for index, globus_task_id in enumerate(self.globus_task_ids)
            if index not in self._results
        )


def combine_summaries(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up the parts' counters into one summary for XCom.

    ``duration_seconds`` runs from the first part's request to the last
    part's completion, because parts beyond Globus's three concurrent tasks
    per identity wait in a queue.
    """
    combined: dict[str, Any] = {
        "globus_task_ids": [result["globus_task_id"] for result in results],
        "status": "SUCCEEDED"
        if all(result["status"] == "SUCCEEDED" for result in results)
        else "FAILED",
        "parts": [result["summary"] for result in results],
    }
    for field in COUNTER_FIELDS:
        combined[field] = sum(result["summary"].get(field) or 0 for result in results)

    duration = _span_seconds(results)
    combined["duration_seconds"] = duration
    combined["effective_bytes_per_second"] = (
        combined["bytes_transferred"] / duration if duration else None
    )
    return combined


def raise_for_results(results: Sequence[Mapping[str, Any]], *, count: int) -> None:
    """Raise when any part did not succeed; the message covers every such part.

    :raises GlobusTaskFatalError: a part failed for a reason a retry cannot fix
    :raises GlobusTaskError: parts failed, and a retry resubmits only those parts
    """
    failed = [result for result in results if result["verdict"] != Verdict.SUCCEEDED.value]
    if not failed:
        return

    fatal = any(result["verdict"] == Verdict.FAILED_FATAL.value for result in failed)
    lines = "\n".join(f"Part {result['part']}/{count}: {result['message']}" for result in failed)
    message = f"{len(failed)} of {count} Globus tasks did not succeed.\n{lines}\n"
    if fatal:
        message += "Fix the cause, then clear this Airflow task: parts that succeeded are kept."
    else:
        message += "A retry resubmits only the parts that failed."

    first = failed[0]
    error_class = GlobusTaskFatalError if fatal else GlobusTaskError
    raise error_class(
        message, globus_task_id=first["globus_task_id"], status=first["status"], code=first["code"]
    )


def _span_seconds(results: Sequence[Mapping[str, Any]]) -> float | None:
    try:
        starts = [datetime.datetime.fromisoformat(result["request_time"]) for result in results]
        ends = [datetime.datetime.fromisoformat(result["completion_time"]) for result in results]
    except (TypeError, ValueError):
        return None
    if not starts or not ends:
        return None
    return max((max(ends) - min(starts)).total_seconds(), 0.0)
