"""Outcome rules shared by the operators, the sensor and the trigger."""

from __future__ import annotations

import json

import pytest

from globus_airflow.exceptions import GlobusTaskError, GlobusTaskFatalError
from globus_airflow.utils.outcome import (
    Verdict,
    describe_event,
    evaluate,
    raise_for_outcome,
    summarize,
)


def task(**fields):
    document = {"task_id": "T1", "status": "ACTIVE", "nice_status": "OK"}
    document.update(fields)
    return document


def test_succeeded_is_success():
    outcome = evaluate(task(status="SUCCEEDED", files_transferred=3, bytes_transferred=10))
    assert outcome.verdict is Verdict.SUCCEEDED
    assert "3 files" in outcome.message


def test_active_keeps_waiting():
    assert evaluate(task()).verdict is Verdict.WAIT


def test_failed_names_fatal_error_and_events():
    failed = task(
        status="FAILED",
        fatal_error={"code": "ENDPOINT_ERROR", "description": "storage offline"},
    )
    events = [{"code": "CONNECT_FAILED", "description": "could not connect", "details": "x"}]
    outcome = evaluate(failed, events)

    assert outcome.verdict is Verdict.FAILED
    assert "T1" in outcome.message
    assert "ENDPOINT_ERROR" in outcome.message
    assert "storage offline" in outcome.message
    assert "CONNECT_FAILED" in outcome.message


def test_cancel_is_not_retried():
    canceled = task(status="FAILED", fatal_error={"code": "CANCELED", "description": "by user"})
    outcome = evaluate(canceled)

    assert outcome.verdict is Verdict.FAILED_FATAL
    with pytest.raises(GlobusTaskFatalError) as excinfo:
        raise_for_outcome(outcome, globus_task_id="T1", status="FAILED")
    assert excinfo.value.code == "CANCELED"


def test_inactive_fails_with_nice_status():
    inactive = task(
        status="INACTIVE",
        nice_status="AUTH",
        nice_status_short_description="authentication expired",
    )
    outcome = evaluate(inactive)

    assert outcome.verdict is Verdict.FAILED
    assert "INACTIVE" in outcome.message
    assert "authentication expired" in outcome.message
    with pytest.raises(GlobusTaskError):
        raise_for_outcome(outcome, globus_task_id="T1", status="INACTIVE")


def test_json_event_details_give_path():
    details = json.dumps({"context": [{"operation": "open", "path": "/data/x.bam"}]})
    event = {"code": "PERMISSION_DENIED", "description": "permission denied", "details": details}

    assert describe_event(event) == "PERMISSION_DENIED /data/x.bam: permission denied"


def test_admin_cancel_names_administrator():
    outcome = evaluate(
        task(
            status="FAILED",
            fatal_error={"code": "CANCELED", "description": "canceled"},
            canceled_by_admin="DESTINATION",
            canceled_by_admin_message="storage migration tonight",
        )
    )

    assert outcome.verdict is Verdict.FAILED_FATAL
    assert "administrator of the destination collection canceled it" in outcome.message
    assert "storage migration tonight" in outcome.message
    assert "ask that administrator why" in outcome.message
    assert "if the cancel was not intended" not in outcome.message


def test_json_event_details_top_level_path():
    details = json.dumps({"path": "/data/missing.txt"})
    event = {"code": "FILE_NOT_FOUND", "description": "file not found", "details": details}

    assert describe_event(event) == "FILE_NOT_FOUND /data/missing.txt: file not found"


def test_summary_counts_and_rate():
    summary = summarize(
        task(
            status="SUCCEEDED",
            files=4,
            files_transferred=3,
            files_skipped=1,
            directories=2,
            bytes_transferred=1000,
            effective_bytes_per_second=None,
            request_time="2026-01-01T00:00:00+00:00",
            completion_time="2026-01-01T00:00:10+00:00",
        )
    )

    assert summary["files_transferred"] == 3
    assert summary["files_skipped"] == 1
    assert summary["duration_seconds"] == 10.0
    assert summary["effective_bytes_per_second"] == 100.0


def test_delete_success_counts_deleted_entries():
    outcome = evaluate(task(status="SUCCEEDED", type="DELETE", files=5, directories=2))
    assert "5 files and 2 directories deleted" in outcome.message
