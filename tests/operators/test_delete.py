"""GlobusDeleteOperator: argument checks, and delete tasks run by dag.test() on the local service."""

from __future__ import annotations

import datetime

import pytest

from globus_airflow.exceptions import GlobusInputError
from globus_airflow.operators.delete import GlobusDeleteOperator

COLLECTION = "42d59fe5-c88e-505f-aba9-7088dd0c100c"


def make(**overrides):
    arguments = {"task_id": "delete", "endpoint": COLLECTION, "path": "/staging/run"}
    arguments.update(overrides)
    return GlobusDeleteOperator(**arguments)


BAD_ARGUMENTS = [
    ({"endpoint": "staging"}, "endpoint='staging' is not a Globus collection id"),
    ({"path": "staging/run"}, "path='staging/run' is a relative path"),
    ({"path": None}, "has nothing to delete"),
    ({"items": ["/a"]}, "sets both path and items"),
    ({"path": None, "items": ["/a"], "manifest": "/tmp/m.txt"}, "sets both items and manifest"),
    ({"path": None, "items": []}, "items is an empty list"),
    (
        {"path": None, "items": ["/a", "b", {"path": "/c"}, {"name": "/d"}]},
        "2 of 4 items are invalid",
    ),
    ({"path": None, "items": ["/a", "b"]}, "items[1]='b' is a relative path"),
    ({"path": None, "items": [{"name": "/d"}]}, "must have exactly one key, 'path'"),
    ({"recursive": "yes"}, "recursive='yes' must be True, False or None"),
    ({"delete_label": "x" * 129}, "is 129 characters long"),
    ({"deadline": datetime.datetime(2030, 1, 1)}, "is a naive datetime"),
    ({"manifest_format": "xml", "manifest": "/tmp/m.xml", "path": None}, "manifest_format='xml'"),
    ({"max_items_per_task": 0}, "max_items_per_task=0 must be a whole number of at least 1"),
]


@pytest.mark.parametrize(("overrides", "expected"), BAD_ARGUMENTS)
def test_bad_argument_rejected_at_parse_time(overrides, expected):
    with pytest.raises(GlobusInputError) as excinfo:
        make(**overrides)
    assert expected in str(excinfo.value)


def test_delete_document_fields():
    operator = make(
        path=None,
        items=["/staging/a", {"path": "/staging/b"}],
        recursive=True,
        ignore_missing=True,
        interpret_globs=False,
        delete_label="Clean staging",
        local_user="instrument",
        notify_on_succeeded=False,
    )
    document = operator.build_delete_data()

    assert document["DATA_TYPE"] == "delete"
    assert document["endpoint"] == COLLECTION
    assert [item["path"] for item in document["DATA"]] == ["/staging/a", "/staging/b"]
    assert document["recursive"] is True
    assert document["ignore_missing"] is True
    assert document["interpret_globs"] is False
    assert document["label"] == "Clean staging"
    assert document["local_user"] == "instrument"
    assert document["notify_on_succeeded"] is False


def test_rendered_item_string_is_parsed():
    operator = make(path=None, items="{{ ti.xcom_pull('ls') }}")
    operator.items = "['/staging/a', '/staging/b']"
    assert [item["path"] for item in operator.build_delete_data()["DATA"]] == [
        "/staging/a",
        "/staging/b",
    ]

    operator.items = "not a list ["
    with pytest.raises(GlobusInputError, match="not a JSON or Python list"):
        operator.build_delete_data()


@pytest.mark.usefixtures("airflow_db")
def test_delete_outcomes_in_a_dag(local_globus, collections):
    from tests.airflow_runs import run_dag, task_states, xcom_value

    staging = collections["source"] / "staging"
    (staging / "tree" / "nested").mkdir(parents=True)
    (staging / "tree" / "nested" / "a.bin").write_bytes(b"a" * 100)
    (staging / "tree" / "b.txt").write_text("b")
    (staging / "present.txt").write_text("present")
    (staging / "logs").mkdir()
    for name in ("one.log", "two.log", "keep.txt"):
        (staging / "logs" / name).write_text(name)

    dag_run = run_dag("globus_ops_delete")

    assert task_states(dag_run) == {
        "delete_tree": "success",
        "delete_missing": "failed",
        "delete_missing_ignored": "success",
        "delete_logs": "success",
    }
    assert not (staging / "tree").exists()
    assert not (staging / "present.txt").exists()
    assert sorted(path.name for path in (staging / "logs").iterdir()) == ["keep.txt"]

    tasks = {task["label"].split(" [")[0]: task for task in local_globus.tasks()}
    assert all(task["type"] == "DELETE" for task in tasks.values())
    failed = tasks["Airflow globus_ops_delete delete_missing"]
    assert failed["status"] == "FAILED"
    assert failed["fatal_error"]["code"] == "FILE_NOT_FOUND"
    assert tasks["Remove the logs"]["status"] == "SUCCEEDED"

    summary = xcom_value(dag_run, "delete_tree", key="globus_task_summary")
    assert summary["status"] == "SUCCEEDED"
    assert summary["files"] == 2
    assert summary["globus_task_id"] == xcom_value(dag_run, "delete_tree")


@pytest.mark.usefixtures("airflow_db")
def test_delete_retry_reattaches(local_globus, collections):
    import re
    import threading

    from tests.airflow_runs import run_dag, task_states, xcom_value

    tree = collections["source"] / "staging" / "tree"
    tree.mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    task_route = re.compile(r"^/transfer/v0\.10/task/[0-9a-f-]+$")
    failed = []
    lock = threading.Lock()

    def fail_first_read(method, path):
        # The first status read after the submit fails, which fails try 1.
        if method != "GET" or not task_route.match(path):
            return None
        with lock:
            if failed:
                return None
            failed.append(path)
        return 400, {"code": "ClientError.BadRequest", "message": "Injected", "request_id": "x"}

    def release_after_failure(method, path):
        # The held task is still ACTIVE when try 2 looks for it.
        if failed:
            local_globus.release_tasks()
        return None

    local_globus.hold_tasks()
    local_globus.add_request_hook(fail_first_read)
    local_globus.add_request_hook(release_after_failure)
    dag_run = run_dag("globus_ops_delete_retry")

    assert task_states(dag_run) == {"delete": "success"}
    assert len(failed) == 1
    [task] = local_globus.tasks()
    assert task["type"] == "DELETE"
    assert task["status"] == "SUCCEEDED"
    assert xcom_value(dag_run, "delete") == task["task_id"]
    assert local_globus.stats.submissions_accepted == 1
    assert not tree.exists()
    ti = next(iter(dag_run.get_task_instances()))
    assert ti.try_number == 2
