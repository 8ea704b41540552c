"""Outcome rules: what a Globus task's state means for the Airflow task.

The operators, the sensor and the trigger all decide through :func:`evaluate`
and report through :func:`raise_for_outcome`, so a state means the same thing
wherever it is seen.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from globus_airflow.exceptions import GlobusTaskError, GlobusTaskFatalError
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT, fault_code, needs_human

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED"})

NOT_RETRYABLE_CODES = frozenset(
    {
        "CANCELED",
        "PERMISSION_DENIED",
        "FILE_NOT_FOUND",
        "INVALID_PATH_NAME",
        "NOT_A_DIRECTORY",
        "NOT_A_FILE",
        "IS_A_DIRECTORY",
        "IS_A_FILE",
        "AMBIGUOUS_PATH",
        "EXTERNAL_CHECKSUM_MISMATCH",
    }
)
"""Error codes of a FAILED task that a resubmission cannot fix."""

FIXES = {
    "PERMISSION_DENIED": (
        "grant the app's identity ({identity}) access to the path "
        "on the collection"
    ),
    "FILE_NOT_FOUND": "check that the source path exists on the source collection",
    "QUOTA_EXCEEDED": "free space or raise the quota on the destination storage",
    "NO_SPACE_LEFT": "free space on the destination storage",
    "AUTH": "check the collection's authentication policy and the app's consents",
    "NO_CREDENTIALS": "register credentials for the app on the collection's storage gateway",
    "EXPIRED": "set a later deadline, or find out why the task made no progress",
    "CANCELED": "resubmit the transfer if the cancel was not intended",
    "PAUSED": "ask the collection's administrator why the task was paused and to resume it",
    "ACL_CHANGED": "restore the app's access rule on the collection",
    "NOT_A_DIRECTORY": "check the item's paths and its 'recursive' flag",
    "IS_A_DIRECTORY": "check the item's paths and its 'recursive' flag",
    "EXTERNAL_CHECKSUM_MISMATCH": "check the external checksum given for the item",
}
"""The most likely fix for each Globus error code, quoted in failure messages."""

ADMIN_SIDES = {
    "SOURCE": "source collection",
    "DESTINATION": "destination collection",
    "BOTH": "source and destination collections",
}
"""Side of the collection for each value of a task's ``canceled_by_admin`` field."""


class Verdict(enum.Enum):
    """The action the Airflow task takes after one look at a Globus task."""

    WAIT = "wait"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Fail; Airflow's retries apply."""
    FAILED_FATAL = "failed_fatal"
    """Fail without retry."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A verdict with the message and error code that explain it.

    A WAIT outcome with a ``code`` is a task that is faulting but not yet
    given up on. The waiting code logs it as a warning.
    """

    verdict: Verdict
    message: str
    code: str | None = None


def evaluate(
    task: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]] = (),
    *,
    stalled_for: float = 0.0,
    stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
    client_identity: str | None = None,
) -> Outcome:
    """Decide what a Globus task document means for the Airflow task.

    :param task: the task document from ``get_task``
    :param events: the task's newest error events, newest first, used to
        explain a failure
    :param stalled_for: seconds since the task last made progress
    :param stall_timeout: seconds without progress after which a fault that
        needs a human fails the wait; ``None`` waits for the Globus deadline
    :param client_identity: the app's Globus identity, named in fixes that
        involve granting it access
    """
    task_id = task["task_id"]
    status = task["status"]

    if status == "SUCCEEDED":
        return Outcome(Verdict.SUCCEEDED, f"Globus task {task_id} succeeded: {summary_line(task)}")

    if status == "FAILED":
        fatal = task.get("fatal_error") or {}
        code = fatal.get("code")
        message = (
            f"Globus task {task_id} failed with {code or 'no error code'}: "
            f"{fatal.get('description') or 'no description'}."
        )
        admin_side = task.get("canceled_by_admin")
        if code == "CANCELED" and admin_side:
            message += (
                f" The administrator of the {ADMIN_SIDES.get(admin_side, admin_side)} canceled "
                f"it: {task.get('canceled_by_admin_message') or 'no message'}. Likely fix: ask "
                "that administrator why, then resubmit the transfer."
            )
        else:
            message += _fix_sentence(code, client_identity)
        message += _events_paragraph(events)
        verdict = Verdict.FAILED_FATAL if code in NOT_RETRYABLE_CODES else Verdict.FAILED
        return Outcome(verdict, message, code)

    if status == "INACTIVE":
        code = task.get("nice_status")
        message = (
            f"Globus task {task_id} is INACTIVE ({code}: "
            f"{task.get('nice_status_short_description') or 'no description'}) and will not "
            "continue until someone acts on it."
        )
        message += _fix_sentence(code, client_identity) + _events_paragraph(events)
        return Outcome(Verdict.FAILED, message, code)

    return _evaluate_active(
        task,
        events,
        stalled_for=stalled_for,
        stall_timeout=stall_timeout,
        client_identity=client_identity,
    )


def _evaluate_active(
    task: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    *,
    stalled_for: float,
    stall_timeout: float | None,
    client_identity: str | None,
) -> Outcome:
    task_id = task["task_id"]
    code = fault_code(task)
    if code is None:
        return Outcome(Verdict.WAIT, f"Globus task {task_id} is {task['status']}")

    description = task.get("nice_status_short_description") or "no description"
    if not needs_human(code):
        return Outcome(
            Verdict.WAIT,
            f"Globus task {task_id} hit a transient fault ({code}: {description}); "
            "Globus keeps retrying.",
            code,
        )

    if stall_timeout is None or stalled_for < stall_timeout:
        return Outcome(
            Verdict.WAIT,
            f"Globus task {task_id} is stalled by {code} ({description}) and has made no "
            f"progress for {stalled_for:.0f} s; it will not recover without a fix.",
            code,
        )

    message = (
        f"Globus task {task_id} made no progress for {stalled_for:.1f} s "
        f"(stall_timeout={stall_timeout:g} s) because of {code}: {description}."
    )
    message += _fix_sentence(code, client_identity)
    message += (
        " The Globus task is still ACTIVE: fix the cause and clear this Airflow task to "
        "resume waiting on it, or cancel it in the Globus web app."
    )
    message += _events_paragraph(events)
    return Outcome(Verdict.FAILED_FATAL, message, code)


def raise_for_outcome(outcome: Outcome, *, globus_task_id: str, status: str) -> None:
    """Raise the exception that matches a failed outcome; do nothing otherwise."""
    if outcome.verdict is Verdict.FAILED_FATAL:
        raise GlobusTaskFatalError(
            outcome.message, globus_task_id=globus_task_id, status=status, code=outcome.code
        )
    if outcome.verdict is Verdict.FAILED:
        raise GlobusTaskError(
            outcome.message, globus_task_id=globus_task_id, status=status, code=outcome.code
        )


def summarize(task: Mapping[str, Any]) -> dict[str, Any]:
    """Return the counters of a finished task as a JSON-ready dict for XCom."""
    duration = _duration_seconds(task)
    bytes_transferred = task.get("bytes_transferred") or 0
    rate = task.get("effective_bytes_per_second")
    if rate is None and duration:
        rate = bytes_transferred / duration
    return {
        "globus_task_id": task["task_id"],
        "status": task["status"],
        "files_transferred": task.get("files_transferred") or 0,
        "files_skipped": task.get("files_skipped") or 0,
        "directories": task.get("directories") or 0,
        "files": task.get("files") or 0,
        "bytes_transferred": bytes_transferred,
        "duration_seconds": duration,
        "effective_bytes_per_second": rate,
    }


def summary_line(task: Mapping[str, Any]) -> str:
    """Describe a task's counters in one short sentence fragment."""
    summary = summarize(task)
    if task.get("type") == "DELETE":
        return f"{summary['files']} files and {summary['directories']} directories deleted"
    return (
        f"{summary['files_transferred']} files and {summary['directories']} directories "
        f"transferred, {summary['files_skipped']} files skipped, "
        f"{summary['bytes_transferred']} bytes"
    )


def describe_event(event: Mapping[str, Any]) -> str:
    """Describe an error event as ``CODE path: description``.

    The event's ``details`` may be plain text or a JSON string. A path is
    taken from the JSON form's ``context`` list, or else from its top-level
    ``path`` key.
    """
    path = None
    details = event.get("details")
    if isinstance(details, str) and details.startswith("{"):
        try:
            parsed = json.loads(details)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            context = parsed.get("context") or [{}]
            if isinstance(context, list) and context and isinstance(context[0], dict):
                path = context[0].get("path")
            path = path or parsed.get("path")
    parts = [event.get("code") or "UNKNOWN"]
    if path:
        parts.append(str(path))
    return f"{' '.join(parts)}: {event.get('description') or details or ''}".strip()


def _fix_sentence(code: str | None, client_identity: str | None = None) -> str:
    fix = FIXES.get(code or "")
    if not fix:
        return ""
    identity = client_identity or "<client id>@clients.auth.globus.org"
    return f" Likely fix: {fix.format(identity=identity)}."


def _events_paragraph(events: Sequence[Mapping[str, Any]]) -> str:
    if not events:
        return ""
    lines = "\n".join(f"  - {describe_event(event)}" for event in events)
    return f"\nNewest error events:\n{lines}"


def _duration_seconds(task: Mapping[str, Any]) -> float | None:
    start, end = task.get("request_time"), task.get("completion_time")
    if not start or not end:
        return None
    try:
        started = datetime.datetime.fromisoformat(start)
        ended = datetime.datetime.fromisoformat(end)
    except ValueError:
        return None
    return max((ended - started).total_seconds(), 0.0)


EVENT_VERDICTS = {
    "success": Verdict.SUCCEEDED,
    "failed": Verdict.FAILED,
    "failed_fatal": Verdict.FAILED_FATAL,
}


def resolve_trigger_event(event: Any) -> dict[str, Any]:
    """Check an event from :class:`GlobusTaskTrigger` and raise for a failed or errored wait.

    :return: the event, when its ``status`` is ``success`` or ``timeout``;
        the caller decides what a timeout means for it
    :raises GlobusTaskError: the Globus task failed or stalled
    :raises GlobusError: the event is malformed or the trigger itself failed
    """
    from globus_airflow.exceptions import GlobusError

    required = ("status", "message", "globus_task_id")
    if not isinstance(event, Mapping) or any(key not in event for key in required):
        raise GlobusError(
            f"Resumed with an invalid trigger event {event!r}: expected a dict with "
            f"{', '.join(required)}."
        )

    status = event["status"]
    if status in ("success", "timeout"):
        return dict(event)
    if status in EVENT_VERDICTS:
        outcome = Outcome(EVENT_VERDICTS[status], event["message"], event.get("code"))
        raise_for_outcome(
            outcome, globus_task_id=event["globus_task_id"], status=event.get("task_status")
        )
    raise GlobusError(event["message"])
