"""Progress lines: one per change, a heartbeat when nothing changes."""

from __future__ import annotations

import logging

from globus_airflow.utils.progress import ProgressReporter, format_bytes


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def doc(**fields):
    document = {"task_id": "T1", "status": "ACTIVE", "nice_status": "OK", "files": 10}
    document.update(fields)
    return document


def test_logs_only_changes_and_heartbeats(caplog):
    clock = FakeClock()
    reporter = ProgressReporter(logging.getLogger("t"), heartbeat_interval=60, clock=clock)

    with caplog.at_level(logging.INFO, logger="t"):
        assert reporter.report(doc(bytes_transferred=0)) is True
        assert reporter.report(doc(bytes_transferred=0)) is False
        clock.now = 30
        assert reporter.report(doc(bytes_transferred=0)) is False
        assert reporter.report(doc(bytes_transferred=5)) is True
        clock.now = 95
        assert reporter.report(doc(bytes_transferred=5)) is True

    assert len(caplog.records) == 3
    assert "unchanged for 60 s" in caplog.records[-1].getMessage()


def test_format_bytes_units():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(5 * 1024**3) == "5.0 GiB"
