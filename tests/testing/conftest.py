"""Fixtures for the local Globus service tests: a started service and globus-sdk clients."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import globus_sdk
import pytest

from globus_airflow.testing import LocalGlobusService


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """Directory served as collection "source"."""
    path = tmp_path / "source"
    path.mkdir()
    return path


@pytest.fixture
def destination_dir(tmp_path: Path) -> Path:
    """Directory served as collection "destination"."""
    path = tmp_path / "destination"
    path.mkdir()
    return path


@pytest.fixture
def service(source_dir: Path, destination_dir: Path) -> Iterator[LocalGlobusService]:
    """A started service with collections "source" and "destination"."""
    with LocalGlobusService(collections={"source": source_dir, "destination": destination_dir}) as running:
        yield running


def make_transfer_client(
    service: LocalGlobusService,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> globus_sdk.TransferClient:
    """Build a TransferClient that authenticates with client credentials over loopback."""
    auth_client = globus_sdk.ConfidentialAppAuthClient(
        client_id or service.client_id,
        client_secret or service.client_secret,
        base_url=service.auth_url,
    )
    # Mapped collections need their data_access consents, as on Globus.
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth_client, scopes=service.transfer_scope())
    return globus_sdk.TransferClient(authorizer=authorizer, base_url=service.transfer_url)


@pytest.fixture
def transfer_client(service: LocalGlobusService) -> globus_sdk.TransferClient:
    """A TransferClient for the service's default client."""
    return make_transfer_client(service)


@pytest.fixture
def client_factory(service: LocalGlobusService) -> Callable[..., globus_sdk.TransferClient]:
    """Build TransferClients for other clients: ``client_factory(client_id=..., client_secret=...)``."""
    return lambda **credentials: make_transfer_client(service, **credentials)


@pytest.fixture
def transfer_data(service: LocalGlobusService) -> Callable[..., globus_sdk.TransferData]:
    """Build TransferData from "source" to "destination"; keyword arguments pass through."""

    def build(**options: object) -> globus_sdk.TransferData:
        return globus_sdk.TransferData(
            source_endpoint=service.collection_id("source"),
            destination_endpoint=service.collection_id("destination"),
            **options,
        )

    return build


def snapshot_tree(root: Path) -> dict[str, str | None]:
    """Map each path below ``root`` to the SHA-256 of its bytes, or None for a directory."""
    tree: dict[str, str | None] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        tree[relative] = None if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return tree


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str | None]]:
    """The tree snapshot function, for byte-for-byte comparisons of directories."""
    return snapshot_tree
