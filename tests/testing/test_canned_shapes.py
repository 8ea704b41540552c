"""Every field of globus-sdk's canned responses must appear in the local service's responses.

The canned responses in ``globus_sdk.testing`` record what Globus returns. For
each one, the test makes the same call against the local service and lists the
keys that are missing, recursing into dicts and into the first element of lists.
A canned response missing from the installed globus-sdk version is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from globus_sdk.testing import get_response_set

from globus_airflow.testing import LocalGlobusService


def missing_keys(expected: Any, actual: Any, path: str = "") -> list[str]:
    """List the key paths present in ``expected`` but absent from ``actual``."""
    missing: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [path or "<root>"]
        for key, value in expected.items():
            if key not in actual:
                missing.append(f"{path}.{key}" if path else key)
            else:
                missing.extend(missing_keys(value, actual[key], f"{path}.{key}" if path else key))
    elif isinstance(expected, list) and expected:
        if not isinstance(actual, list) or not actual:
            return [f"{path}[0]"]
        missing.extend(missing_keys(expected[0], actual[0], f"{path}[0]"))
    return missing


def test_missing_keys_detects_gaps() -> None:
    expected = {"a": 1, "b": {"c": 2}, "d": [{"e": 3}], "f": []}
    actual = {"a": 1, "b": {}, "d": [{}], "f": []}

    assert missing_keys(expected, actual) == ["b.c", "d[0].e"]
    assert missing_keys({"d": [{"e": 1}]}, {"d": []}) == ["d[0]"]


class Session:
    """Raw HTTP access to a populated service, returning decoded JSON bodies."""

    def __init__(self, service: LocalGlobusService, source_dir: Path) -> None:
        self.service = service
        self.token_response = requests.post(
            service.auth_url + "v2/oauth2/token",
            data={"grant_type": "client_credentials", "scope": service.transfer_scope()},
            auth=(service.client_id, service.client_secret),
            timeout=10,
        ).json()
        self.headers = {"Authorization": f"Bearer {self.token_response['access_token']}"}
        self.source_id = service.collection_id("source")
        self.destination_id = service.collection_id("destination")
        (source_dir / "file1.txt").write_text("data")
        self.task_id = self.submit_transfer()["task_id"]
        service.wait_for_task(self.task_id, timeout=10)

    def get(self, route: str, **params: Any) -> Any:
        response = requests.get(self.service.transfer_url + route, headers=self.headers, params=params, timeout=10)
        return response.json()

    def post(self, route: str, body: Any = None) -> Any:
        response = requests.post(self.service.transfer_url + route, headers=self.headers, json=body, timeout=10)
        return response.json()

    def submission_id(self) -> str:
        return self.get("v0.10/submission_id")["value"]

    def submit_transfer(self, *, items: bool = True) -> Any:
        body = {
            "DATA_TYPE": "transfer",
            "submission_id": self.submission_id(),
            "source_endpoint": self.source_id,
            "destination_endpoint": self.destination_id,
            "DATA": [{"DATA_TYPE": "transfer_item", "source_path": "/file1.txt", "destination_path": "/file1.txt"}]
            if items
            else [],
        }
        return self.post("v0.10/transfer", body)

    def submit_delete(self) -> Any:
        body = {
            "DATA_TYPE": "delete",
            "submission_id": self.submission_id(),
            "endpoint": self.destination_id,
            "ignore_missing": True,
            "DATA": [{"DATA_TYPE": "delete_item", "path": "/nothing"}],
        }
        return self.post("v0.10/delete", body)

    def cancel_active(self) -> Any:
        self.service.hold_tasks()
        task_id = self.submit_transfer()["task_id"]
        try:
            return self.post(f"v0.10/task/{task_id}/cancel")
        finally:
            self.service.release_tasks()


CASES: dict[str, tuple[str, str, Callable[[Session], Any]]] = {
    "token grant": ("auth.oauth2_client_credentials_tokens", "default", lambda s: s.token_response),
    "submission id": ("transfer.get_submission_id", "default", lambda s: s.get("v0.10/submission_id")),
    "submit transfer": ("transfer.submit_transfer", "default", lambda s: s.submit_transfer()),
    "submit without items": ("transfer.submit_transfer", "failure", lambda s: s.submit_transfer(items=False)),
    "submit delete": ("transfer.submit_delete", "default", lambda s: s.submit_delete()),
    "task list": ("transfer.task_list", "default", lambda s: s.get("v0.10/task_list")),
    "cancel": ("transfer.cancel_task", "default", lambda s: s.cancel_active()),
    "endpoint": ("transfer.get_endpoint", "default", lambda s: s.get(f"v0.10/endpoint/{s.source_id}")),
    "mkdir": (
        "transfer.operation_mkdir",
        "default",
        lambda s: s.post(f"v0.10/operation/endpoint/{s.destination_id}/mkdir", {"DATA_TYPE": "mkdir", "path": "/made"}),
    ),
    "stat": ("transfer.operation_stat", "default", lambda s: s.get(f"v0.10/operation/endpoint/{s.source_id}/stat", path="/file1.txt")),
    "stat not found": (
        "transfer.operation_stat",
        "not_found",
        lambda s: s.get(f"v0.10/operation/endpoint/{s.source_id}/stat", path="/nope"),
    ),
    "stat permission denied": (
        "transfer.operation_stat",
        "permission_denied",
        lambda s: s.get(f"v0.10/operation/endpoint/{s.source_id}/stat", path="/../etc"),
    ),
    "successful transfers": (
        "transfer.endpoint_manager_task_successful_transfers",
        "default",
        lambda s: s.get(f"v0.10/task/{s.task_id}/successful_transfers"),
    ),
}


def canned_json(set_name: str, case: str) -> dict[str, Any]:
    try:
        response_set = get_response_set(set_name)
    except (LookupError, ValueError, ModuleNotFoundError):
        pytest.skip(f"globus-sdk has no canned response set {set_name}")
    return response_set.lookup(case).json


@pytest.mark.parametrize("name", sorted(CASES))
def test_canned_fields_present(name: str, service: LocalGlobusService, source_dir: Path) -> None:
    set_name, case, call = CASES[name]
    expected = canned_json(set_name, case)

    ours = call(Session(service, source_dir))

    assert missing_keys(expected, ours) == []


def test_task_fields_match_endpoint_manager_entry(service: LocalGlobusService, source_dir: Path) -> None:
    # The endpoint manager's task list entry is the fullest canned task document.
    expected = canned_json("transfer.endpoint_manager_task_list", "default")["DATA"][0]
    session = Session(service, source_dir)

    task = session.get(f"v0.10/task/{session.task_id}")
    listed = session.get("v0.10/task_list")["DATA"][0]

    assert missing_keys(expected, task) == []
    assert missing_keys(expected, listed) == []
