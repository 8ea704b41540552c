"""Argument checks on GlobusTransferOperator, which run before any request."""

from __future__ import annotations

import datetime

import pytest

from globus_airflow.exceptions import GlobusInputError
from globus_airflow.operators.transfer import GlobusTransferOperator

SRC = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc"
DST = "31d6d4c8-2f97-4ac2-b2c5-2f1b4ea9a1a1"


def make(**overrides):
    arguments = {
        "task_id": "transfer",
        "source_endpoint": SRC,
        "destination_endpoint": DST,
        "source_path": "/data/run1",
        "destination_path": "/~/run1",
    }
    arguments.update(overrides)
    return GlobusTransferOperator(**arguments)


BAD_ARGUMENTS = [
    ({"source_endpoint": "not-a-uuid"}, "source_endpoint='not-a-uuid'"),
    ({"destination_endpoint": "1234"}, "destination_endpoint='1234'"),
    ({"source_path": "data/run1"}, "source_path='data/run1' is a relative path"),
    ({"destination_path": "run1"}, "destination_path='run1' is a relative path"),
    ({"source_path": None, "destination_path": None}, "nothing to transfer"),
    ({"items": [{"source_path": "/a", "destination_path": "/b"}]}, "sets both items"),
    ({"source_path": None, "destination_path": None, "items": []}, "items is an empty list"),
    (
        {"source_path": None, "destination_path": None, "items": [{"source_path": "/a"}]},
        "missing 'destination_path'",
    ),
    (
        {
            "source_path": None,
            "destination_path": None,
            "items": [{"source_path": "/a", "destination_path": "/b", "checksum": "x"}],
        },
        "unknown keys ['checksum']",
    ),
    (
        {
            "source_path": None,
            "destination_path": None,
            "items": [{"source_path": "/a", "destination_path": "b"}],
        },
        "items[0]['destination_path']='b' is a relative path",
    ),
    ({"sync_level": "fast"}, "sync_level='fast' is not a Globus sync level"),
    ({"sync_level": 7}, "sync_level=7"),
    ({"deadline": datetime.datetime(2030, 1, 1)}, "is a naive datetime"),
    ({"deadline": datetime.timedelta(seconds=-5)}, "must be a positive duration"),
    ({"deadline": "tomorrow"}, "deadline='tomorrow'"),
    ({"transfer_label": "x" * 129}, "is 129 characters long"),
    ({"transfer_label": "two\nlines"}, "contains a line break"),
    ({"transfer_label": " padded"}, "starts or ends with whitespace"),
    ({"filter_rules": [{"name": "*.tmp", "method": "drop"}]}, "must be 'include' or 'exclude'"),
    ({"filter_rules": [{"method": "exclude"}]}, "must be a dict with a 'name' pattern"),
    ({"poll_interval": 0}, "poll_interval=0"),
    ({"timeout": -1}, "timeout=-1"),
    ({"stall_timeout": 0}, "stall_timeout=0"),
    ({"heartbeat_interval": -5}, "heartbeat_interval=-5"),
    ({"transient_error_budget": 0}, "transient_error_budget=0"),
    ({"sync_level": True}, "sync_level=True must be a string or an integer"),
    ({"transfer_label": 42}, "transfer_label=42 is not a string"),
    ({"source_path": "/data/\x00bad"}, "contains a line break or NUL"),
    ({"source_path": ""}, "source_path='' is not a path"),
    ({"source_endpoint": None}, "source_endpoint=None"),
    ({"recursive": True, "items": [{"source_path": "/a", "destination_path": "/b"}],
      "source_path": None, "destination_path": None}, "give 'recursive' in each item"),
    (
        {"source_path": None, "destination_path": None, "items": {"source_path": "/a"}},
        "must be a list of dicts",
    ),
    (
        {"source_path": None, "destination_path": None, "items": ["/a"]},
        "items[0]='/a' must be a dict",
    ),
    (
        {
            "source_path": None,
            "destination_path": None,
            "items": [{"source_path": "/a", "destination_path": "/b", "recursive": "yes"}],
        },
        "items[0]['recursive']='yes' must be true or false",
    ),
    (
        {
            "source_path": None,
            "destination_path": None,
            "items": [
                {
                    "source_path": "/a",
                    "destination_path": "/b",
                    "recursive": True,
                    "external_checksum": "abc",
                }
            ],
        },
        "an external checksum applies to a single file only",
    ),
    ({"filter_rules": [{"name": "*.tmp", "type": "symlink"}]}, "must be 'file' or 'dir'"),
    ({"filter_rules": [{"name": "*.tmp", "glob": True}]}, "unknown keys ['glob']"),
    ({"filter_rules": "*.tmp"}, "filter_rules='*.tmp' must be a list of dicts"),
]


@pytest.mark.parametrize(("overrides", "expected"), BAD_ARGUMENTS)
def test_bad_argument_rejected_at_parse_time(overrides, expected):
    assert len(BAD_ARGUMENTS) >= 30
    with pytest.raises(GlobusInputError) as excinfo:
        make(**overrides)
    assert expected in str(excinfo.value)


def test_templated_values_checked_after_rendering():
    operator = make(source_endpoint="{{ params.source }}")
    assert operator.source_endpoint == "{{ params.source }}"

    operator.source_endpoint = "not-a-uuid"
    with pytest.raises(GlobusInputError, match="source_endpoint='not-a-uuid'"):
        operator.build_transfer_data()


def test_rendered_items_checked_before_submit():
    operator = make(source_path=None, destination_path=None, items="{{ ti.xcom_pull('ls') }}")
    operator.items = [{"source_path": "relative", "destination_path": "/b"}]
    with pytest.raises(GlobusInputError, match=r"items\[0\]\['source_path'\]='relative'"):
        operator.build_transfer_data()


def test_collection_ids_are_normalised():
    operator = make(source_endpoint=SRC.upper())
    assert operator.source_endpoint == SRC


def test_input_error_is_not_retried():
    from airflow.providers.common.compat.sdk import AirflowFailException

    assert issubclass(GlobusInputError, AirflowFailException)


BAD_CONNECTIONS = [
    ({"login": None, "password": "s3cret-value"}, "has no client id"),
    ({"login": "   ", "password": "s3cret-value"}, "has no client id"),
    ({"login": "6c54cade-bde5-45c1-bdea-f4bd71dba2cc", "password": None}, "has no client secret"),
    ({"login": "6c54cade-bde5-45c1-bdea-f4bd71dba2cc", "password": ""}, "has no client secret"),
]


@pytest.mark.parametrize(("fields", "expected"), BAD_CONNECTIONS)
def test_bad_connection_rejected_without_secret(monkeypatch, fields, expected):
    import json

    from globus_airflow.exceptions import GlobusConnectionConfigError
    from globus_airflow.hooks.globus import GlobusHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_GLOBUS_BROKEN", json.dumps({"conn_type": "globus", **fields})
    )
    with pytest.raises(GlobusConnectionConfigError) as excinfo:
        GlobusHook(globus_conn_id="globus_broken").credentials
    message = str(excinfo.value)
    assert expected in message
    assert "globus_broken" in message
    assert "s3cret-value" not in message
