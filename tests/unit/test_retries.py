"""TransientErrorBudget: which failures are retried, and how they are reported."""

from __future__ import annotations

import logging

import globus_sdk
import pytest
import requests

from globus_airflow.utils.retries import GlobusTransientError, TransientErrorBudget, is_transient


def api_error(status, code, headers=None):
    response = requests.Response()
    response.status_code = status
    response.headers.update({"Content-Type": "application/json", **(headers or {})})
    response._content = f'{{"code": "{code}", "message": "m", "request_id": "r"}}'.encode()
    response.request = requests.Request("GET", "http://127.0.0.1/v0.10/task/T1").prepare()
    response.url = response.request.url
    return globus_sdk.TransferAPIError(response)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(429, "RateLimited"), True),
        (api_error(503, "ServiceUnavailable"), True),
        (api_error(502, "ExternalError.DirListingFailed.GCDisconnected"), True),
        (api_error(502, "EndpointError"), True),
        (api_error(502, "ExternalError.MkdirFailed.Exists"), False),
        (api_error(404, "ClientError.NotFound"), False),
        (api_error(400, "ClientError.BadRequest"), False),
        (api_error(403, "ConsentRequired"), False),
        (globus_sdk.GlobusConnectionError("reset", ConnectionResetError()), True),
        (ValueError("not globus"), False),
    ],
)
def test_transient_classification(error, expected):
    assert is_transient(error) is expected


def test_retries_until_success_and_logs_once(caplog):
    pauses = []
    budget = TransientErrorBudget(budget=600, logger=logging.getLogger("t"), sleep=pauses.append)
    failures = [api_error(503, "ServiceUnavailable")] * 3

    def flaky():
        if failures:
            raise failures.pop()
        return "ok"

    with caplog.at_level(logging.INFO, logger="t"):
        assert budget.call("Reading task T1", flaky) == "ok"

    assert len(pauses) == 3
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "HTTP 503 ServiceUnavailable" in messages[0]
    assert "HTTP 503 ServiceUnavailable x3" in messages[1]


def test_retry_after_header_is_honoured():
    pauses = []
    budget = TransientErrorBudget(budget=600, logger=logging.getLogger("t"), sleep=pauses.append)
    failures = [api_error(429, "RateLimited", {"Retry-After": "7"})]

    def limited():
        if failures:
            raise failures.pop()
        return "ok"

    budget.call("Reading task T1", limited)
    assert pauses == [7.0]


def test_exhausted_budget_names_what_failed():
    budget = TransientErrorBudget(budget=0, logger=logging.getLogger("t"), sleep=lambda _: None)

    def down():
        raise api_error(504, "GatewayTimeout")

    with pytest.raises(GlobusTransientError) as excinfo:
        budget.call("Reading task T1", down)
    assert "Reading task T1 kept failing" in str(excinfo.value)
    assert "HTTP 504 GatewayTimeout" in str(excinfo.value)


def test_permanent_error_is_not_retried():
    pauses = []
    budget = TransientErrorBudget(budget=600, logger=logging.getLogger("t"), sleep=pauses.append)

    def bad():
        raise api_error(400, "ClientError.BadRequest")

    with pytest.raises(globus_sdk.TransferAPIError):
        budget.call("Submitting", bad)
    assert pauses == []
