"""Run one DAG with dag.test() in its own process, for tests that kill it midway.

Usage: ``python -m tests.run_dag_process DAG_ID LOGICAL_DATE_ISO``. The
Airflow environment (AIRFLOW_HOME, DAGS_FOLDER, connections) comes from the
parent test process.
"""

from __future__ import annotations

import datetime
import sys

from tests.airflow_runs import run_dag


def main() -> int:
    dag_id, logical_date = sys.argv[1], datetime.datetime.fromisoformat(sys.argv[2])
    dag_run = run_dag(dag_id, logical_date=logical_date)
    return 0 if str(dag_run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
