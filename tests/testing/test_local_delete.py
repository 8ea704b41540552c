"""DELETE tasks on the local service: files, recursive trees, globs, missing paths, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import globus_sdk
import pytest


@pytest.fixture
def delete_data(service):
    def build(**options: object) -> globus_sdk.DeleteData:
        return globus_sdk.DeleteData(endpoint=service.collection_id("destination"), **options)

    return build


def run_delete(service, transfer_client, data) -> dict:
    result = transfer_client.submit_delete(data)
    assert result["code"] == "Accepted"
    assert result["DATA_TYPE"] == "delete_result"
    return service.wait_for_task(result["task_id"], timeout=10)


def test_delete_file(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "gone.txt").write_text("bye")
    (destination_dir / "kept.txt").write_text("stay")
    data = delete_data(label="remove one")
    data.add_item("/gone.txt")

    document = run_delete(service, transfer_client, data)

    assert document["type"] == "DELETE"
    assert document["status"] == "SUCCEEDED"
    assert document["files"] == 1
    assert document["source_endpoint_id"] == service.collection_id("destination")
    assert document["destination_endpoint_id"] is None
    assert not (destination_dir / "gone.txt").exists()
    assert (destination_dir / "kept.txt").exists()


def test_delete_recursive_tree(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "tree" / "sub").mkdir(parents=True)
    (destination_dir / "tree" / "a.txt").write_text("a")
    (destination_dir / "tree" / "sub" / "b.txt").write_text("b")
    data = delete_data(recursive=True)
    data.add_item("/tree/")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert document["files"] == 2
    assert document["directories"] == 2
    assert document["recursive"] is True
    assert not (destination_dir / "tree").exists()


def test_delete_directory_without_recursive_fails(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "tree").mkdir()
    (destination_dir / "tree" / "a.txt").write_text("a")
    data = delete_data()
    data.add_item("/tree")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "FAILED"
    assert (destination_dir / "tree" / "a.txt").exists()


def test_delete_missing_path_fails(service, transfer_client, delete_data) -> None:
    data = delete_data()
    data.add_item("/not here.txt")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "FILE_NOT_FOUND"


def test_delete_missing_path_ignored(service, transfer_client, delete_data) -> None:
    data = delete_data(ignore_missing=True)
    data.add_item("/not here.txt")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert document["ignore_missing"] is True


def test_delete_interprets_globs(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "logs").mkdir()
    for name in ("a.log", "b.log", "keep.txt", "[x].log"):
        (destination_dir / "logs" / name).write_text(name)
    data = delete_data(interpret_globs=True)
    data.add_item("/logs/*.log")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert sorted(path.name for path in (destination_dir / "logs").iterdir()) == ["keep.txt"]


def test_delete_glob_characters_literal_by_default(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "a*.txt").write_text("literal")
    (destination_dir / "ab.txt").write_text("other")
    data = delete_data()
    data.add_item("/a*.txt")

    run_delete(service, transfer_client, data)

    assert sorted(path.name for path in destination_dir.iterdir()) == ["ab.txt"]


def test_delete_symlink_not_followed(service, transfer_client, delete_data, destination_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    os.symlink(outside, destination_dir / "link")
    (destination_dir / "tree").mkdir()
    os.symlink(outside, destination_dir / "tree" / "inner link")
    data = delete_data(recursive=True)
    data.add_item("/link")
    data.add_item("/tree")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert document["symlinks"] == 2
    assert not os.path.lexists(destination_dir / "link")
    assert not (destination_dir / "tree").exists()
    assert (outside / "precious.txt").read_text() == "keep me"


def test_delete_escape_rejected(service, transfer_client, delete_data, tmp_path: Path) -> None:
    (tmp_path / "victim.txt").write_text("outside")
    data = delete_data()
    data.add_item("/../victim.txt")
    task_id = transfer_client.submit_delete(data)["task_id"]

    service.wait_until(lambda: service.get_task(task_id)["faults"] >= 1, timeout=10, description="escape fault")
    document = service.get_task(task_id)
    transfer_client.cancel_task(task_id)

    assert document["nice_status"] == "PERMISSION_DENIED"
    assert (tmp_path / "victim.txt").read_text() == "outside"


def test_delete_collection_root_rejected(service, transfer_client, delete_data, destination_dir: Path) -> None:
    (destination_dir / "f.txt").write_text("f")
    data = delete_data(recursive=True)
    data.add_item("/~/")

    document = run_delete(service, transfer_client, data)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "PERMISSION_DENIED"
    assert (destination_dir / "f.txt").exists()


def test_delete_without_items(transfer_client, delete_data) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        transfer_client.submit_delete(delete_data())

    assert caught.value.http_status == 400
