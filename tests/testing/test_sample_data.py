"""The sample dataset writer and the tree comparison used by the demo and the DAG tests."""

from __future__ import annotations

from pathlib import Path

from globus_airflow.testing.sample_data import tree_differences, write_sample_dataset


def test_sample_dataset_stats(tmp_path: Path) -> None:
    stats = write_sample_dataset(tmp_path / "data", large_files=1, large_file_bytes=1000)

    files = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]
    directories = [path for path in (tmp_path / "data").rglob("*") if path.is_dir()]
    assert stats.files == len(files)
    assert stats.files > 300
    assert stats.directories == len(directories)
    assert stats.bytes == sum(path.stat().st_size for path in files)
    assert any(" " in path.name for path in [*files, *directories])
    assert any(not path.name.isascii() for path in [*files, *directories])


def test_sample_dataset_is_deterministic(tmp_path: Path) -> None:
    write_sample_dataset(tmp_path / "a", large_files=1, large_file_bytes=5000)
    write_sample_dataset(tmp_path / "b", large_files=1, large_file_bytes=5000)
    write_sample_dataset(tmp_path / "c", large_files=1, large_file_bytes=5000, seed=1)

    assert tree_differences(tmp_path / "a", tmp_path / "b") == []
    assert tree_differences(tmp_path / "a", tmp_path / "c") != []


def test_tree_differences_lists_each_kind(tmp_path: Path) -> None:
    source = tmp_path / "source"
    destination = tmp_path / "destination"
    for root in (source, destination):
        (root / "same").mkdir(parents=True)
        (root / "same" / "f.txt").write_text("equal")
    (source / "missing.txt").write_text("m")
    (destination / "extra.txt").write_text("e")
    (source / "changed.txt").write_text("one")
    (destination / "changed.txt").write_text("two")
    (source / "kind").mkdir()
    (destination / "kind").write_text("file")

    differences = tree_differences(source, destination)

    assert "missing: missing.txt" in differences
    assert "extra: extra.txt" in differences
    assert "content differs: changed.txt" in differences
    assert "type differs: kind" in differences
    assert len(differences) == 4


def test_sample_dataset_copies_through_service(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write_sample_dataset(source_dir, large_files=1, large_file_bytes=64 * 1024)
    data = transfer_data(sync_level="checksum", verify_checksum=True)
    data.add_item("/", "/", recursive=True)

    first = service.wait_for_task(transfer_client.submit_transfer(data)["task_id"], timeout=60)
    again = transfer_data(sync_level="checksum")
    again.add_item("/", "/", recursive=True)
    second = service.wait_for_task(transfer_client.submit_transfer(again)["task_id"], timeout=60)

    assert first["status"] == "SUCCEEDED"
    assert tree_differences(source_dir, destination_dir) == []
    assert second["files_transferred"] == 0
    assert second["files_skipped"] == first["files_transferred"]
