"""Build a GlobusHook inside a trigger, where connection lookups must not block the event loop."""

from __future__ import annotations

import asyncio

from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook
from globus_airflow.hooks.globus import GlobusCredentials, GlobusHook


async def build_hook(globus_conn_id: str) -> GlobusHook:
    """Build the hook from an asynchronous connection lookup.

    Under ``dag.test()`` on Airflow 3.3 the asynchronous lookup finds only
    connections defined in environment variables, so a connection that it does
    not find is looked up again synchronously in a thread.
    """
    from airflow.providers.common.compat.connection import get_async_connection

    try:
        conn = await get_async_connection(globus_conn_id)
    except AirflowNotFoundException:
        conn = await asyncio.to_thread(BaseHook.get_connection, globus_conn_id)
    credentials = GlobusCredentials.from_connection(conn)
    return GlobusHook(globus_conn_id=globus_conn_id, credentials=credentials)
