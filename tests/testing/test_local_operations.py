"""Collection document, ls, stat and mkdir on the local service, including path escapes."""

from __future__ import annotations

import os
from pathlib import Path

import globus_sdk
import pytest

from globus_airflow.testing import LocalGlobusService


@pytest.fixture
def populated(source_dir: Path) -> Path:
    (source_dir / "docs").mkdir()
    (source_dir / "docs" / "read me.txt").write_text("1234567")
    (source_dir / "docs" / "notes.md").write_text("notes")
    (source_dir / "docs" / ".secret").write_text("s")
    (source_dir / "docs" / "sub").mkdir()
    return source_dir


def test_endpoint_document(service: LocalGlobusService, transfer_client) -> None:
    collection_id = service.collection_id("source")

    document = transfer_client.get_endpoint(collection_id)

    assert document["DATA_TYPE"] == "endpoint"
    assert document["id"] == collection_id
    assert document["display_name"] == "source"
    assert document["entity_type"] == "GCSv5_mapped_collection"


def test_endpoint_not_found(transfer_client) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.get_endpoint("00000000-0000-0000-0000-000000000000")

    assert caught.value.http_status == 404
    assert caught.value.code == "EndpointNotFound"


def test_ls_lists_entries(service, transfer_client, populated) -> None:
    listing = transfer_client.operation_ls(service.collection_id("source"), path="/docs/")

    entries = {entry["name"]: entry for entry in listing}
    assert listing["DATA_TYPE"] == "file_list"
    assert listing["path"] == "/docs/"
    assert listing["endpoint"] == service.collection_id("source")
    assert listing["total"] == 4
    assert sorted(entries) == [".secret", "notes.md", "read me.txt", "sub"]
    assert entries["read me.txt"]["type"] == "file"
    assert entries["read me.txt"]["size"] == 7
    assert entries["sub"]["type"] == "dir"
    assert entries["read me.txt"]["DATA_TYPE"] == "file"
    assert entries["read me.txt"]["permissions"].isdigit()


def test_ls_root_forms(service, transfer_client, populated) -> None:
    collection_id = service.collection_id("source")

    names = [[entry["name"] for entry in transfer_client.operation_ls(collection_id, path=path)] for path in ("/", "/~/", "~")]
    default = [entry["name"] for entry in transfer_client.operation_ls(collection_id)]

    assert names == [["docs"], ["docs"], ["docs"]]
    assert default == ["docs"]


def test_ls_hidden_filter_and_paging(service, transfer_client, populated) -> None:
    collection_id = service.collection_id("source")

    visible = [entry["name"] for entry in transfer_client.operation_ls(collection_id, path="/docs", show_hidden=False)]
    globbed = [entry["name"] for entry in transfer_client.operation_ls(collection_id, path="/docs", filter="name:~*.md")]
    exact = [entry["name"] for entry in transfer_client.operation_ls(collection_id, path="/docs", filter="name:=read me.txt")]
    directories = [entry["name"] for entry in transfer_client.operation_ls(collection_id, path="/docs", filter="type:dir")]
    page = transfer_client.operation_ls(collection_id, path="/docs", limit=2, offset=1)
    by_size = [entry["name"] for entry in transfer_client.operation_ls(collection_id, path="/docs", orderby="size DESC", filter="type:file")]

    assert visible == ["notes.md", "read me.txt", "sub"]
    assert globbed == ["notes.md"]
    assert exact == ["read me.txt"]
    assert directories == ["sub"]
    assert [entry["name"] for entry in page] == ["notes.md", "read me.txt"]
    assert page["total"] == 4
    assert by_size[0] == "read me.txt"


def test_ls_missing_directory(service, transfer_client) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.operation_ls(service.collection_id("source"), path="/missing/")

    assert caught.value.http_status == 404
    assert caught.value.code == "ClientError.NotFound"


def test_ls_on_a_file(service, transfer_client, populated) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.operation_ls(service.collection_id("source"), path="/docs/notes.md")

    assert caught.value.http_status == 502
    assert caught.value.code == "ExternalError.DirListingFailed.NotDirectory"


def test_stat_file_and_missing(service, transfer_client, populated) -> None:
    collection_id = service.collection_id("source")

    document = transfer_client.operation_stat(collection_id, "/docs/read me.txt")
    root = transfer_client.operation_stat(collection_id, "/")
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.operation_stat(collection_id, "/docs/nothing.txt")

    assert document["name"] == "read me.txt"
    assert document["type"] == "file"
    assert document["size"] == 7
    assert document["link_target"] is None
    assert root["type"] == "dir"
    assert caught.value.http_status == 404
    assert caught.value.code == "NotFound"


def test_mkdir_creates_and_rejects_existing(service, transfer_client, destination_dir) -> None:
    collection_id = service.collection_id("destination")

    created = transfer_client.operation_mkdir(collection_id, "/new dir")
    with pytest.raises(globus_sdk.TransferAPIError) as exists:
        transfer_client.operation_mkdir(collection_id, "/new dir")
    with pytest.raises(globus_sdk.TransferAPIError) as no_parent:
        transfer_client.operation_mkdir(collection_id, "/absent/child")

    assert created["code"] == "DirectoryCreated"
    assert created["DATA_TYPE"] == "mkdir_result"
    assert (destination_dir / "new dir").is_dir()
    assert exists.value.http_status == 502
    assert exists.value.code == "ExternalError.MkdirFailed.Exists"
    assert no_parent.value.http_status == 404
    assert not (destination_dir / "absent").exists()


@pytest.mark.parametrize("path", ["/../", "/..", "/docs/../../outside", "../outside", "/~/../x"])
def test_dotdot_escapes_rejected(service, transfer_client, populated, tmp_path, path) -> None:
    collection_id = service.collection_id("source")
    (tmp_path / "outside").mkdir(exist_ok=True)

    for call in (
        lambda: transfer_client.operation_ls(collection_id, path=path),
        lambda: transfer_client.operation_stat(collection_id, path),
        lambda: transfer_client.operation_mkdir(collection_id, path + "/made"),
    ):
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            call()
        assert caught.value.http_status == 403
        assert caught.value.code == "EndpointPermissionDenied"
    assert not (tmp_path / "outside" / "made").exists()


def test_symlink_escapes_rejected(service, transfer_client, source_dir, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text("private")
    os.symlink(outside, source_dir / "link out")
    os.symlink(outside / "private.txt", source_dir / "file link out")
    (source_dir / "inside.txt").write_text("inside")
    os.symlink(source_dir / "inside.txt", source_dir / "file link in")
    collection_id = service.collection_id("source")

    for call in (
        lambda: transfer_client.operation_ls(collection_id, path="/link out/"),
        lambda: transfer_client.operation_stat(collection_id, "/file link out"),
        lambda: transfer_client.operation_stat(collection_id, "/link out/private.txt"),
        lambda: transfer_client.operation_mkdir(collection_id, "/link out/made"),
    ):
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            call()
        assert caught.value.http_status == 403
    listing = {entry["name"]: entry for entry in transfer_client.operation_ls(collection_id, path="/")}

    assert not (outside / "made").exists()
    assert listing["link out"]["type"] == "invalid_symlink"
    assert listing["file link out"]["type"] == "invalid_symlink"
    assert listing["file link out"]["size"] != len("private")
    assert listing["file link in"]["type"] == "file"
    assert listing["file link in"]["link_target"] == str(source_dir / "inside.txt")
