"""Sync levels, checksums, timestamps, filter rules and delete_destination_extra."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

OLD_MTIME = 1_500_000_000
NEW_MTIME = 1_700_000_000


def run_transfer(service, transfer_client, data) -> dict:
    return service.wait_for_task(transfer_client.submit_transfer(data)["task_id"])


def write(path: Path, content: str, *, mtime: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


@pytest.mark.parametrize(
    ("sync_level", "destination_content", "destination_mtime", "expect_copy"),
    [
        ("exists", "different and longer", NEW_MTIME, False),
        ("size", "SOURCE", NEW_MTIME, False),
        ("size", "longer than source", NEW_MTIME, True),
        ("mtime", "old", NEW_MTIME, False),
        ("mtime", "old", OLD_MTIME - 10, True),
        ("checksum", "source", OLD_MTIME - 10, False),
        ("checksum", "SOURCE", NEW_MTIME, True),
    ],
)
def test_sync_levels(
    service, transfer_client, transfer_data, source_dir, destination_dir, sync_level, destination_content, destination_mtime, expect_copy
) -> None:
    write(source_dir / "file.txt", "source", mtime=OLD_MTIME)
    write(destination_dir / "file.txt", destination_content, mtime=destination_mtime)
    data = transfer_data(sync_level=sync_level)
    data.add_item("/file.txt", "/file.txt")

    document = run_transfer(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    expected = "source" if expect_copy else destination_content
    assert (destination_dir / "file.txt").read_text() == expected
    assert document["files_transferred"] == (1 if expect_copy else 0)
    assert document["files_skipped"] == (0 if expect_copy else 1)
    assert document["subtasks_succeeded"] == 1


def test_sync_copies_missing_destination(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write(source_dir / "tree" / "a.txt", "a")
    write(source_dir / "tree" / "b.txt", "b")
    write(destination_dir / "tree" / "a.txt", "a")
    data = transfer_data(sync_level="checksum")
    data.add_item("/tree", "/tree", recursive=True)

    document = run_transfer(service, transfer_client, data)

    assert document["files_skipped"] == 1
    assert document["files_transferred"] == 1
    assert (destination_dir / "tree" / "b.txt").read_text() == "b"
    assert document["bytes_checksummed"] == 2


def test_verify_checksum_counts_bytes(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    (source_dir / "big.bin").write_bytes(payload)
    data = transfer_data(verify_checksum=True)
    data.add_item("/big.bin", "/big.bin", checksum_algorithm="SHA256")

    document = run_transfer(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert (destination_dir / "big.bin").read_bytes() == payload
    assert document["bytes_transferred"] == len(payload)
    assert document["bytes_checksummed"] == 2 * len(payload)


def test_no_checksum_without_request(service, transfer_client, transfer_data, source_dir) -> None:
    write(source_dir / "f.txt", "abc")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt")

    assert run_transfer(service, transfer_client, data)["bytes_checksummed"] == 0


def test_external_checksum_match(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write(source_dir / "f.txt", "checked")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt", external_checksum=hashlib.md5(b"checked").hexdigest())

    document = run_transfer(service, transfer_client, data)

    assert document["status"] == "SUCCEEDED"
    assert (destination_dir / "f.txt").read_text() == "checked"


def test_external_checksum_mismatch_fails(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write(source_dir / "f.txt", "checked")
    data = transfer_data()
    data.add_item("/f.txt", "/f.txt", external_checksum="0" * 32)

    document = run_transfer(service, transfer_client, data)

    assert document["status"] == "FAILED"
    assert document["fatal_error"]["code"] == "VERIFY_CHECKSUM"
    assert not (destination_dir / "f.txt").exists()


@pytest.mark.parametrize("preserve", [True, False])
def test_preserve_timestamp(service, transfer_client, transfer_data, source_dir, destination_dir, preserve) -> None:
    write(source_dir / "dated.txt", "dated", mtime=OLD_MTIME)
    data = transfer_data(preserve_timestamp=preserve)
    data.add_item("/dated.txt", "/dated.txt")

    run_transfer(service, transfer_client, data)

    copied_mtime = int((destination_dir / "dated.txt").stat().st_mtime)
    assert (copied_mtime == OLD_MTIME) is preserve


def test_filter_rules_first_match_wins(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    for relative in ("keep.txt", "drop.log", "sub/keep too.txt", "sub/drop.bin", "skipme/inner.txt", "skipme.txt"):
        write(source_dir / "tree" / relative, relative)
    data = transfer_data()
    data.add_item("/tree/", "/tree/", recursive=True)
    data.add_filter_rule("skipme", method="exclude", type="dir")
    data.add_filter_rule("*.txt", method="include", type="file")
    data.add_filter_rule("*", method="exclude", type="file")

    document = run_transfer(service, transfer_client, data)

    copied = sorted(path.relative_to(destination_dir / "tree").as_posix() for path in (destination_dir / "tree").rglob("*"))
    assert copied == ["keep.txt", "skipme.txt", "sub", "sub/keep too.txt"]
    assert document["files"] == 3
    assert document["files_transferred"] == 3


def test_symlinks_inside_tree_are_ignored(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write(source_dir / "tree" / "real.txt", "real")
    os.symlink(source_dir / "tree" / "real.txt", source_dir / "tree" / "alias.txt")
    data = transfer_data()
    data.add_item("/tree", "/tree", recursive=True)

    document = run_transfer(service, transfer_client, data)

    assert document["symlinks"] == 1
    assert sorted(path.name for path in (destination_dir / "tree").iterdir()) == ["real.txt"]


def test_delete_destination_extra(service, transfer_client, transfer_data, source_dir, destination_dir) -> None:
    write(source_dir / "tree" / "a.txt", "a")
    write(source_dir / "tree" / "sub" / "b.txt", "b")
    write(source_dir / "tree" / "excluded.tmp", "source copy")
    write(destination_dir / "tree" / "extra.txt", "extra")
    write(destination_dir / "tree" / "extra dir" / "x.txt", "x")
    write(destination_dir / "tree" / "sub" / "extra in sub.txt", "y")
    write(destination_dir / "tree" / "excluded.tmp", "destination copy")
    data = transfer_data(delete_destination_extra=True, sync_level="checksum")
    data.add_item("/tree", "/tree", recursive=True)
    data.add_filter_rule("*.tmp", method="exclude")

    document = run_transfer(service, transfer_client, data)

    remaining = sorted(path.relative_to(destination_dir / "tree").as_posix() for path in (destination_dir / "tree").rglob("*"))
    assert document["status"] == "SUCCEEDED"
    assert remaining == ["a.txt", "excluded.tmp", "sub", "sub/b.txt"]
    assert (destination_dir / "tree" / "excluded.tmp").read_text() == "destination copy"
