"""Transfer API v0.10 task routes: submission ids, submit, task get and list, cancel, events.

The router is mounted at ``/transfer/v0.10``, so ``TransferClient(base_url=
service.transfer_url)`` reaches it with the paths globus-sdk uses.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from globus_airflow.testing.access import require_task_data_access
from globus_airflow.testing.auth_api import authenticate_bearer, authenticate_token
from globus_airflow.testing.documents import event_document, result_document, submission_result, task_document
from globus_airflow.testing.errors import TransferError
from globus_airflow.testing.runner import TaskScheduler, cancel_task
from globus_airflow.testing.state import ServiceState
from globus_airflow.testing.submissions import bad_request, build_delete_task, build_transfer_task
from globus_airflow.testing.tasks import TaskRecord

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 10
MAX_LIST_LIMIT = 1000
# NOTE: Transfer's page size for successful_transfers is not documented; this is a guess.
SUCCESSFUL_TRANSFERS_PAGE_SIZE = 100
TASK_SORT_FIELDS = frozenset({"request_time", "completion_time", "deadline", "label", "status", "type", "task_id"})


def parse_int(value: str | None, *, name: str, default: int, maximum: int | None = None) -> int:
    """Parse a non-negative integer query parameter; raise 400 when invalid."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise bad_request(f"{name} must be an integer, got {value!r}") from error
    if number < 0 or (maximum is not None and number > maximum):
        limit_text = f" and at most {maximum}" if maximum is not None else ""
        raise bad_request(f"{name} must be at least 0{limit_text}, got {number}")
    return number


def _parse_time_range(field: str, value: str) -> tuple[float | None, float | None]:
    start_text, _, end_text = value.partition(",")
    bounds: list[float | None] = []
    for text in (start_text, end_text):
        if not text.strip():
            bounds.append(None)
            continue
        try:
            moment = datetime.datetime.fromisoformat(text.strip())
        except ValueError as error:
            raise bad_request(f"filter {field}: {text!r} is not an ISO 8601 date and time") from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        bounds.append(moment.timestamp())
    return bounds[0], bounds[1]


TASK_FILTER_FIELDS = frozenset({"task_id", "status", "type", "label", "request_time", "completion_time"})


def parse_task_filter(filter_text: str | None) -> list[tuple[str, str]]:
    """Split a task_list ``filter`` into (field, value) clauses; raise 400 for a bad clause.

    Clauses are ``field:value`` joined by ``/``. Fields: task_id, status, type
    (comma-separated alternatives), label (``=exact`` or ``~substring``, the
    substring case-insensitive) and request_time or completion_time (``start,end``,
    either side may be empty).
    """
    clauses = []
    for clause in (filter_text or "").split("/"):
        if not clause:
            continue
        field, separator, value = clause.partition(":")
        if not separator:
            raise bad_request(f"filter clause {clause!r} must look like field:value")
        if field not in TASK_FILTER_FIELDS:
            raise bad_request(f"unknown task_list filter field {field!r}")
        if field in ("request_time", "completion_time"):
            _parse_time_range(field, value)
        clauses.append((field, value))
    return clauses


def task_filter_matches(task: TaskRecord, clauses: list[tuple[str, str]]) -> bool:
    """Return whether ``task`` matches every clause of :func:`parse_task_filter`."""
    for field, value in clauses:
        if field in ("task_id", "status", "type"):
            allowed = {part.strip() for part in value.split(",") if part.strip()}
            if str(getattr(task, field)) not in allowed:
                return False
        elif field == "label":
            label = task.label or ""
            if value.startswith("~"):
                if value[1:].lower() not in label.lower():
                    return False
            elif label != value.removeprefix("="):
                return False
        elif field in ("request_time", "completion_time"):
            moment = getattr(task, field)
            start, end = _parse_time_range(field, value)
            if moment is None or (start is not None and moment < start) or (end is not None and moment > end):
                return False
    return True


def sort_tasks(tasks: list[TaskRecord], orderby: str | None) -> list[TaskRecord]:
    """Sort by ``orderby`` ("field [ASC|DESC]", comma-separated); default request_time DESC."""
    terms = [term.split() for term in (orderby or "request_time DESC").split(",") if term.strip()]
    ordered = sorted(tasks, key=lambda task: task.sequence)
    for term in reversed(terms):
        field = term[0]
        direction = term[1].upper() if len(term) > 1 else "ASC"
        if field not in TASK_SORT_FIELDS or direction not in ("ASC", "DESC") or len(term) > 2:
            raise bad_request(f"invalid orderby term {' '.join(term)!r}")
        present = [task for task in ordered if getattr(task, field) is not None]
        missing = [task for task in ordered if getattr(task, field) is None]
        present.sort(key=lambda task: getattr(task, field), reverse=direction == "DESC")
        ordered = present + missing
    return ordered


def build_transfer_router(state: ServiceState, scheduler: TaskScheduler) -> APIRouter:
    """Build the task routes, to be mounted at ``/transfer/v0.10``."""
    router = APIRouter()

    def require_identity(request: Request) -> str:
        return authenticate_bearer(state, request.headers.get("authorization"))

    def owned_task(task_id: str, identity: str) -> TaskRecord:
        task = state.find_task(task_id)
        if task is None:
            raise TransferError(404, "ClientError.NotFound", f"Task {task_id} not found")
        if task.owner_id != identity:
            raise TransferError(403, "PermissionDenied", f"You do not have permission to access task {task_id}")
        return task

    @router.get("/submission_id")
    def get_submission_id(identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Issue a submission id, which makes one submit idempotent."""
        return {"DATA_TYPE": "submission_id", "value": state.issue_submission_id(identity)}

    async def submit(request: Request, identity: str, task_type: str) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise bad_request(f"the request body is not valid JSON: {error}") from error
        if not isinstance(body, dict):
            raise bad_request(f"the request body must be a {task_type.lower()} document")
        submission_id = body.get("submission_id")
        if not isinstance(submission_id, str) or not submission_id:
            raise bad_request("submission_id is required: get one from GET /submission_id")

        with state.lock:
            original = state.find_submitted(identity, submission_id)
            if original is not None:
                logger.info("duplicate submission %s returns task %s", submission_id, original)
                result = submission_result(task_type=task_type, code="Duplicate", task_id=original, submission_id=submission_id)
                # NOTE: HTTP 200 for Duplicate and 202 for Accepted are a guess at Transfer's statuses.
                return JSONResponse(result, status_code=200)
            if not state.is_issued(identity, submission_id):
                raise bad_request(f"submission_id {submission_id!r} was not issued by GET /submission_id")

            build = build_transfer_task if task_type == "TRANSFER" else build_delete_task
            task = build(state, body, owner_id=identity, submission_id=submission_id)
            require_task_data_access(state, authenticate_token(state, request.headers.get("authorization")), task)
            state.add_task(task)
            scheduler.start(task)

        logger.info("accepted %s task %s from %s", task_type, task.task_id, identity)
        result = submission_result(task_type=task_type, code="Accepted", task_id=task.task_id, submission_id=submission_id)
        return JSONResponse(result, status_code=202)

    @router.post("/transfer")
    async def submit_transfer(request: Request, identity: str = Depends(require_identity)) -> JSONResponse:
        """Create a TRANSFER task, or return the original task for a reused submission id."""
        return await submit(request, identity, "TRANSFER")

    @router.post("/delete")
    async def submit_delete(request: Request, identity: str = Depends(require_identity)) -> JSONResponse:
        """Create a DELETE task, or return the original task for a reused submission id."""
        return await submit(request, identity, "DELETE")

    @router.get("/task/{task_id}")
    def get_task(task_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Return one task document."""
        with state.lock:
            return task_document(owned_task(task_id, identity), now=state.now())

    @router.get("/task_list")
    def task_list(request: Request, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """List the caller's tasks with filter, orderby, limit (default 10) and offset."""
        query = request.query_params
        limit = parse_int(query.get("limit"), name="limit", default=DEFAULT_LIST_LIMIT, maximum=MAX_LIST_LIMIT)
        offset = parse_int(query.get("offset"), name="offset", default=0)
        clauses = parse_task_filter(query.get("filter"))
        with state.lock:
            matching = [task for task in state.tasks_of(identity) if task_filter_matches(task, clauses)]
            ordered = sort_tasks(matching, query.get("orderby"))
            page = [task_document(task, now=state.now()) for task in ordered[offset : offset + limit]]
        return {
            "DATA_TYPE": "task_list",
            "DATA": page,
            "length": len(page),
            "limit": limit,
            "offset": offset,
            "total": len(matching),
        }

    @router.post("/task/{task_id}/cancel")
    def cancel(task_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """Cancel a task; it is FAILED with fatal_error CANCELED when this returns."""
        resource = f"/task/{task_id}/cancel"
        with state.lock:
            task = owned_task(task_id, identity)
            if not cancel_task(state, task):
                # NOTE: "TaskComplete" with HTTP 200 for a finished task is a guess at Transfer's response.
                return result_document(
                    data_type="result",
                    code="TaskComplete",
                    message=f"The task already completed with status {task.status}, so it was not canceled.",
                    resource=resource,
                )
        logger.info("task %s canceled by %s", task_id, identity)
        return result_document(
            data_type="result",
            code="Canceled",
            message="The task has been cancelled successfully.",
            resource=resource,
        )

    @router.get("/task/{task_id}/event_list")
    def event_list(request: Request, task_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """List a task's events, newest first; ``filter=is_error:1`` keeps the errors only."""
        query = request.query_params
        limit = parse_int(query.get("limit"), name="limit", default=DEFAULT_LIST_LIMIT, maximum=MAX_LIST_LIMIT)
        offset = parse_int(query.get("offset"), name="offset", default=0)
        filter_text = query.get("filter") or ""
        if filter_text not in ("", "is_error:1", "is_error:0"):
            raise bad_request(f"unsupported event_list filter {filter_text!r}: use is_error:1 or is_error:0")
        with state.lock:
            events = list(reversed(owned_task(task_id, identity).events))
        if filter_text:
            errors_only = filter_text.endswith("1")
            events = [event for event in events if event.is_error == errors_only]
        page = [event_document(event) for event in events[offset : offset + limit]]
        return {
            "DATA_TYPE": "event_list",
            "DATA": page,
            "length": len(page),
            "limit": limit,
            "offset": offset,
            "total": len(events),
        }

    @router.get("/task/{task_id}/successful_transfers")
    def successful_transfers(request: Request, task_id: str, identity: str = Depends(require_identity)) -> dict[str, Any]:
        """List the files a task copied, paged by ``marker``; ``next_marker`` is null on the last page."""
        marker = parse_int(request.query_params.get("marker"), name="marker", default=0)
        with state.lock:
            copied = list(owned_task(task_id, identity).successful_transfers)
        page = copied[marker : marker + SUCCESSFUL_TRANSFERS_PAGE_SIZE]
        next_marker = marker + len(page) if marker + len(page) < len(copied) else None
        return {
            "DATA_TYPE": "successful_transfers",
            "marker": marker,
            "next_marker": next_marker,
            "DATA": [
                {"DATA_TYPE": "successful_transfer", "source_path": source, "destination_path": destination}
                for source, destination in page
            ],
        }

    return router
