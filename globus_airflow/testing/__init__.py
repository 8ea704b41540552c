"""A local Globus Auth and Transfer service for demos, tests and offline DAG runs.

>>> from globus_airflow.testing import LocalGlobusService
>>> with LocalGlobusService(collections={"source": "/tmp/a", "destination": "/tmp/b"}) as service:
...     conn_json = service.connection_json()

Run it from a shell with ``python -m globus_airflow.testing serve --collection NAME=DIR``.

Faults for a DAG's own tests, on the route names in ``ROUTE_NAMES``:

>>> handle = service.inject_error("get_task", status=503, count=2)
>>> hold = service.hold_requests("submit_transfer", after_processing=True)
"""

from __future__ import annotations

from globus_airflow.testing.faults import ROUTE_NAMES, FaultHandle, HoldHandle
from globus_airflow.testing.service import LocalGlobusService
from globus_airflow.testing.state import COLLECTION_NAMESPACE, ServiceStats, collection_id_for

__all__ = [
    "COLLECTION_NAMESPACE",
    "ROUTE_NAMES",
    "FaultHandle",
    "HoldHandle",
    "LocalGlobusService",
    "ServiceStats",
    "collection_id_for",
]
