"""The transfer task document that the operator builds."""

from __future__ import annotations

import datetime

import globus_sdk

from tests.unit.test_validation import DST, SRC, make


def test_single_item_document():
    data = make(recursive=True, transfer_label="nightly copy").build_transfer_data(
        submission_id="b6a5f2a2-1e0f-4f4c-9f0e-5f2c9c7f0d11"
    )

    assert data["DATA_TYPE"] == "transfer"
    assert data["source_endpoint"] == SRC
    assert data["destination_endpoint"] == DST
    assert data["label"] == "nightly copy"
    assert data["submission_id"] == "b6a5f2a2-1e0f-4f4c-9f0e-5f2c9c7f0d11"
    assert len(data["DATA"]) == 1
    item = data["DATA"][0]
    assert item["source_path"] == "/data/run1"
    assert item["destination_path"] == "/~/run1"
    assert item["recursive"] is True


def test_unset_options_are_left_out():
    data = make().build_transfer_data()
    sent = {key: value for key, value in data.items() if value is not globus_sdk.MISSING}
    item = {key: value for key, value in data["DATA"][0].items() if value is not globus_sdk.MISSING}

    for field in ("label", "sync_level", "verify_checksum", "deadline", "notify_on_failed"):
        assert field not in sent, field
    assert "recursive" not in item


def test_options_and_items_are_passed_through():
    operator = make(
        source_path=None,
        destination_path=None,
        items=[
            {"source_path": "/a.txt", "destination_path": "/b.txt", "external_checksum": "abc"},
            {"source_path": "/dir", "destination_path": "/dir", "recursive": True},
        ],
        sync_level="checksum",
        verify_checksum=True,
        preserve_timestamp=True,
        encrypt_data=True,
        skip_source_errors=True,
        fail_on_quota_errors=True,
        delete_destination_extra=True,
        notify_on_succeeded=False,
        notify_on_failed=False,
        notify_on_inactive=False,
        source_local_user="alice",
        destination_local_user="bob",
        filter_rules=[{"name": "*.tmp"}, {"name": "keep", "method": "include", "type": "dir"}],
    )
    data = operator.build_transfer_data()

    assert data["sync_level"] == 3
    assert data["verify_checksum"] is True
    assert data["preserve_timestamp"] is True
    assert data["encrypt_data"] is True
    assert data["skip_source_errors"] is True
    assert data["fail_on_quota_errors"] is True
    assert data["delete_destination_extra"] is True
    assert data["notify_on_succeeded"] is False
    assert data["source_local_user"] == "alice"
    assert data["destination_local_user"] == "bob"
    assert data["DATA"][0]["external_checksum"] == "abc"
    assert data["DATA"][1]["recursive"] is True
    assert [rule["name"] for rule in data["filter_rules"]] == ["*.tmp", "keep"]
    assert data["filter_rules"][0]["method"] == "exclude"
    assert data["filter_rules"][1]["type"] == "dir"


def test_deadline_timedelta_becomes_utc_timestamp():
    before = datetime.datetime.now(datetime.timezone.utc)
    data = make(deadline=datetime.timedelta(hours=2)).build_transfer_data()

    deadline = datetime.datetime.fromisoformat(data["deadline"])
    assert deadline.utcoffset() == datetime.timedelta(0)
    assert before + datetime.timedelta(hours=2) - datetime.timedelta(seconds=1) <= deadline


def test_aware_deadline_converted_to_utc():
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    data = make(deadline=datetime.datetime(2030, 1, 1, 7, 0, tzinfo=tz)).build_transfer_data()

    assert data["deadline"] == "2030-01-01T12:00:00+00:00"
