"""Extra link from an Airflow task to its Globus task in the Globus web app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, TaskInstanceKey

TASK_URL_XCOM_KEY = "globus_task_url"
"""XCom key under which operators push the web app address before they wait."""

TASK_ID_XCOM_KEY = "globus_task_id"
"""XCom key under which operators push the Globus task id before they wait."""


class GlobusTaskLink(BaseOperatorLink):
    """The "Globus task" button, which opens the task's activity page.

    The address comes from XCom, which the operator writes right after
    submitting, so the button works while the transfer is still running,
    in blocking and in deferred mode alike.
    """

    name = "Globus task"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return XCom.get_value(ti_key=ti_key, key=TASK_URL_XCOM_KEY) or ""
