"""Stall rules: transient faults wait, faults that need a human fail after stall_timeout."""

from __future__ import annotations

import pytest

from globus_airflow.utils.outcome import Verdict, evaluate
from globus_airflow.utils.stall import StallMonitor


def active(**fields):
    document = {"task_id": "T1", "status": "ACTIVE", "nice_status": "OK"}
    document.update(fields)
    return document


def test_queued_is_never_a_stall():
    outcome = evaluate(active(nice_status="Queued"), stalled_for=10**6, stall_timeout=60)
    assert outcome.verdict is Verdict.WAIT
    assert outcome.code is None


@pytest.mark.parametrize("code", ["CONNECT_FAILED", "ENDPOINT_TOO_BUSY", "TIMEOUT", "NEW_CODE"])
def test_transient_fault_keeps_waiting(code):
    outcome = evaluate(active(nice_status=code), stalled_for=10**6, stall_timeout=60)
    assert outcome.verdict is Verdict.WAIT
    assert outcome.code == code
    assert "transient" in outcome.message


@pytest.mark.parametrize("code", ["PERMISSION_DENIED", "FILE_NOT_FOUND", "QUOTA_EXCEEDED"])
def test_human_fault_waits_until_stall_timeout(code):
    before = evaluate(active(nice_status=code), stalled_for=59, stall_timeout=60)
    after = evaluate(active(nice_status=code), stalled_for=60, stall_timeout=60)

    assert before.verdict is Verdict.WAIT
    assert after.verdict is Verdict.FAILED_FATAL
    assert code in after.message
    assert "Likely fix" in after.message
    assert "still ACTIVE" in after.message


def test_stall_failure_names_event_path():
    events = [
        {
            "code": "FILE_NOT_FOUND",
            "description": "No such file",
            "details": '{"context": [{"path": "/data/missing.bam"}]}',
        }
    ]
    outcome = evaluate(
        active(nice_status="FILE_NOT_FOUND"), events, stalled_for=100, stall_timeout=60
    )
    assert "/data/missing.bam" in outcome.message


def test_no_stall_timeout_waits_for_deadline():
    outcome = evaluate(active(nice_status="PERMISSION_DENIED"), stalled_for=10**7, stall_timeout=None)
    assert outcome.verdict is Verdict.WAIT


def test_admin_pause_counts_as_human_fault():
    outcome = evaluate(active(is_paused=True), stalled_for=100, stall_timeout=60)
    assert outcome.verdict is Verdict.FAILED_FATAL
    assert outcome.code == "PAUSED"


def test_stall_monitor_resets_on_progress():
    now = [0.0]
    monitor = StallMonitor(clock=lambda: now[0])

    assert monitor.observe(active(bytes_transferred=0)) == 0
    now[0] = 50
    assert monitor.observe(active(bytes_transferred=0)) == 50
    assert monitor.observe(active(bytes_transferred=10)) == 0
    now[0] = 80
    assert monitor.observe(active(bytes_transferred=10)) == 30


def test_permission_fix_names_client_identity():
    identity = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc@clients.auth.globus.org"
    outcome = evaluate(
        active(nice_status="PERMISSION_DENIED"),
        stalled_for=100,
        stall_timeout=60,
        client_identity=identity,
    )
    assert f"grant the app's identity ({identity}) access" in outcome.message
