"""The ``python -m globus_airflow.testing serve`` command, run as a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import globus_sdk
import pytest

from globus_airflow.testing import collection_id_for

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"


def start_cli(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "globus_airflow.testing", "serve", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_json_and_stops(tmp_path: Path, stop_signal: signal.Signals) -> None:
    source = tmp_path / "made by cli" / "source"
    destination = tmp_path / "destination"
    (tmp_path / "made by cli").mkdir()
    process = start_cli(
        "--collection", f"source={source}",
        "--collection", f"destination={destination}",
        "--client-id", "cli-client",
        "--client-secret", "cli-secret",
    )
    try:
        assert process.stdout is not None
        announcement = json.loads(process.stdout.readline())
        assert source.is_dir()
        (source / "hello.txt").write_text("hello from the CLI test\n")

        auth_client = globus_sdk.ConfidentialAppAuthClient(
            announcement["client_id"], announcement["client_secret"], base_url=announcement["auth_url"]
        )
        source_id = announcement["collections"]["source"]
        scope = f"{TRANSFER_SCOPE}[*https://auth.globus.org/scopes/{source_id}/data_access]"
        client = globus_sdk.TransferClient(
            authorizer=globus_sdk.ClientCredentialsAuthorizer(auth_client, scopes=scope),
            base_url=announcement["transfer_url"],
        )
        listing = client.operation_ls(announcement["collections"]["source"], path="/")

        assert [entry["name"] for entry in listing] == ["hello.txt"]
        assert announcement["client_id"] == "cli-client"
        assert announcement["client_secret"] == "cli-secret"
        assert announcement["collections"] == {
            "source": collection_id_for("source"),
            "destination": collection_id_for("destination"),
        }
        assert announcement["web_app_url"].endswith("/app/")
        connection = json.loads(announcement["airflow_conn_globus_default"])
        assert connection["conn_type"] == "globus"
        assert connection["login"] == "cli-client"
        assert connection["password"] == "cli-secret"
        assert connection["extra"]["transfer_base_url"] == announcement["transfer_url"]
    finally:
        process.send_signal(stop_signal)
        stdout_rest, stderr = process.communicate(timeout=30)

    assert process.returncode == 0, stderr
    assert stdout_rest == ""


def test_serve_rejects_non_loopback_host(tmp_path: Path) -> None:
    process = start_cli("--collection", f"source={tmp_path}", "--host", "0.0.0.0")
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert stdout == ""
    assert "loopback" in stderr


def test_serve_rejects_bad_collection_argument(tmp_path: Path) -> None:
    process = start_cli("--collection", "no-equals-sign")
    _stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "NAME=DIR" in stderr
