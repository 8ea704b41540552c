"""Fixtures for hook tests: hooks on connections to the local Globus service, with chosen extras."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import globus_sdk
import pytest

from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.testing import LocalGlobusService

SUBMIT_ROUTE = "POST /transfer/v0.10/transfer"
ENDPOINT_ROUTE = "GET /transfer/v0.10/endpoint/{endpoint_id}"


def connection_json(
    service: LocalGlobusService,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    **extra: Any,
) -> str:
    """Return an ``AIRFLOW_CONN_*`` value for the service, with extra fields added."""
    connection = json.loads(service.connection_json())
    connection["extra"].update(extra)
    if client_id is not None:
        connection["login"] = client_id
    if client_secret is not None:
        connection["password"] = client_secret
    return json.dumps(connection)


@pytest.fixture
def hook_factory(
    local_globus: LocalGlobusService, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., GlobusHook]:
    """Build a hook on a new connection ``conn_id`` to the service; keyword arguments become extras."""

    def build(conn_id: str = "globus_test", **options: Any) -> GlobusHook:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(local_globus, **options)
        )
        return GlobusHook(globus_conn_id=conn_id)

    return build


def copy_file(
    hook: GlobusHook,
    service: LocalGlobusService,
    *,
    source: str = "source",
    destination: str = "destination",
    name: str = "data.txt",
) -> str:
    """Submit a one-file transfer through the hook and return the Globus task id."""
    data = globus_sdk.TransferData(
        source_endpoint=service.collection_id(source),
        destination_endpoint=service.collection_id(destination),
    )
    data.add_item(f"/{name}", f"/{name}")
    return hook.transfer_client.submit_transfer(data)["task_id"]


@pytest.fixture
def source_file(collections: dict[str, Path]) -> Path:
    """A small file at ``/data.txt`` on the source collection."""
    path = collections["source"] / "data.txt"
    path.write_text("payload\n")
    return path
