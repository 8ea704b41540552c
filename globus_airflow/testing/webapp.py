"""Minimal HTML pages standing in for the Globus web app's activity view.

``GET /app/`` lists every task and ``GET /app/activity/{task_id}`` shows one task's
status and counters, so the task links the provider builds from ``web_app_url``
open a real page. The pages need no login because the service only listens on
loopback.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from globus_airflow.testing.documents import task_document
from globus_airflow.testing.state import ServiceState

PAGE_FIELDS = (
    "task_id",
    "type",
    "status",
    "nice_status",
    "label",
    "source_endpoint_display_name",
    "destination_endpoint_display_name",
    "request_time",
    "completion_time",
    "deadline",
    "files",
    "directories",
    "files_transferred",
    "files_skipped",
    "bytes_transferred",
    "bytes_checksummed",
    "faults",
    "subtasks_total",
    "subtasks_succeeded",
    "subtasks_pending",
    "fatal_error",
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title></head>\n<body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def build_web_app_router(state: ServiceState) -> APIRouter:
    """Build the HTML routes, to be mounted at ``/app``."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    def task_index() -> HTMLResponse:
        """List all tasks, newest first, with links to their activity pages."""
        with state.lock:
            tasks = list(reversed(state.tasks_of(None)))
            rows = "\n".join(
                f"<li><a href=\"activity/{escape(task.task_id)}\">{escape(task.task_id)}</a> "
                f"{escape(task.type)} {escape(task.status)} {escape(task.label or '')}</li>"
                for task in tasks
            )
        return HTMLResponse(_page("Local Globus service: activity", f"<ul>\n{rows}\n</ul>"))

    @router.get("/activity/{task_id}", response_class=HTMLResponse)
    def task_page(task_id: str) -> HTMLResponse:
        """Show one task's status and counters; 404 for an unknown task."""
        with state.lock:
            task = state.find_task(task_id)
            document = task_document(task, now=state.now()) if task is not None else None
        if document is None:
            return HTMLResponse(_page("Task not found", f"<p>No task {escape(task_id)}.</p>"), status_code=404)

        rows = "\n".join(
            f"<tr><th>{escape(field)}</th><td id=\"{escape(field)}\">{escape(str(document[field]))}</td></tr>"
            for field in PAGE_FIELDS
        )
        return HTMLResponse(_page(f"Task {task_id}", f"<table>\n{rows}\n</table>"))

    return router
