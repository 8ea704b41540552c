"""The --fail-rate and --seed options of ``python -m globus_airflow.testing serve``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.transport import RetryConfig


def start_cli(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "globus_airflow.testing", "serve", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_fail_rate_one_fails_transfer_requests(tmp_path: Path) -> None:
    process = start_cli("--collection", f"source={tmp_path / 'source'}", "--fail-rate", "1", "--seed", "5")
    try:
        assert process.stdout is not None
        announcement = json.loads(process.stdout.readline())
        auth_client = globus_sdk.ConfidentialAppAuthClient(
            announcement["client_id"], announcement["client_secret"], base_url=announcement["auth_url"]
        )
        tokens = auth_client.oauth2_client_credentials_tokens(
            requested_scopes="urn:globus:auth:scope:transfer.api.globus.org:all"
        )
        token = tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
        client = globus_sdk.TransferClient(
            authorizer=globus_sdk.AccessTokenAuthorizer(token),
            base_url=announcement["transfer_url"],
            retry_config=RetryConfig(max_retries=0),
        )

        statuses = []
        for _ in range(6):
            with pytest.raises(globus_sdk.TransferAPIError) as caught:
                client.task_list()
            statuses.append(caught.value.http_status)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    assert set(statuses) <= {502, 503}
    assert len(statuses) == 6
    assert process.returncode == 0


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "often"])
def test_fail_rate_rejects_bad_value(tmp_path: Path, rate: str) -> None:
    process = start_cli("--collection", f"source={tmp_path / 'source'}", "--fail-rate", rate)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "--fail-rate" in stderr
    assert "expected a probability from 0 to 1" in stderr
