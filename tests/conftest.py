"""Test set-up: an isolated Airflow home, a DAGs folder, and the local Globus service.

Airflow reads its configuration when it is first imported, so the
environment is set here, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="globus-airflow-tests-"))
DAGS_FOLDER = AIRFLOW_HOME / "dags"

os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"
os.environ.pop("AIRFLOW_CONN_GLOBUS_DEFAULT", None)

# dag.test() on Airflow 3 runs only DAGs that its bundle (the DAGs folder) contains,
# so the example DAGs and the test DAGs are copied there.
DAGS_FOLDER.mkdir()
for source in [*(REPO / "example_dags").glob("*.py"), *(REPO / "tests" / "dags").glob("*.py")]:
    shutil.copy(source, DAGS_FOLDER / source.name)

import pytest  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db():
    """Create Airflow's metadata database once for the tests that run DAGs."""
    from airflow.utils import db

    db.resetdb()
    return AIRFLOW_HOME


@pytest.fixture
def collections(tmp_path):
    """Two empty directories that stand in for the source and destination collections."""
    source = tmp_path / "source"
    destination = tmp_path / "destination"
    source.mkdir()
    destination.mkdir()
    return {"source": source, "destination": destination}


@pytest.fixture
def local_globus(collections, monkeypatch, capfd, caplog):
    """A running local Globus service, set as the ``globus_default`` connection.

    After the test, everything the test's DAG runs left behind (their output,
    task logs and every text column of Airflow's database) is searched for
    the client secret and the access tokens the service issued; finding one
    fails the test.
    """
    from globus_airflow.testing import LocalGlobusService

    with LocalGlobusService(collections=collections) as service:
        monkeypatch.setenv("AIRFLOW_CONN_GLOBUS_DEFAULT", service.connection_json())
        yield service
        secrets = service.secret_values()

    check_no_leaks(secrets, capfd, caplog)


def check_no_leaks(secrets: list[str], capfd, caplog) -> None:
    """Fail when a secret appears in captured output or log records, task logs or the database.

    Airflow 3 writes task logs to standard output under dag.test(); Airflow 2
    sends them through Python logging, which pytest captures separately.
    """
    from tests.secrets_scan import find_leaks

    out, err = capfd.readouterr()
    # Print the captured output again so pytest still shows it for a failing test.
    sys.stdout.write(out)
    sys.stderr.write(err)
    captured = out + err + caplog.text

    leaks = [f"captured output: secret starting {s[:4]!r}" for s in secrets if s in captured]
    leaks += find_leaks(secrets, AIRFLOW_HOME)
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
