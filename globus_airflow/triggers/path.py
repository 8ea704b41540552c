"""Wait in the triggerer for a path on a collection, or for enough entries matching a pattern."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import globus_sdk

from airflow.triggers.base import BaseTrigger, TriggerEvent
from globus_airflow.exceptions import GlobusError
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.triggers.hooks import build_hook
from globus_airflow.utils import listing
from globus_airflow.utils.retries import describe_error, is_transient


class PathProbe:
    """One check of a path condition; sensor pokes and the trigger both run it.

    A missing path or directory is "not yet". So is a collection that
    Transfer reports as unreachable (a 502 ``ExternalError`` or
    ``EndpointError``), a 5xx or 429 response, or a network error. Each kind
    is logged once as a warning, then again only after a successful check.
    Other errors, such as a denied permission or an unknown collection,
    raise :class:`~globus_airflow.exceptions.GlobusError`.
    """

    def __init__(
        self,
        hook: GlobusHook,
        *,
        endpoint: str,
        path: str | None,
        pattern: str | None,
        min_matches: int,
        local_user: str | None,
        logger: logging.Logger,
    ) -> None:
        self.hook = hook
        self.endpoint = endpoint
        self.path = path
        self.pattern = pattern
        self.min_matches = min_matches
        self.local_user = local_user
        self._logger = logger
        self._warned: set[str] = set()
        self._last_count: int | None = None
        self._prepared = False

    @property
    def target(self) -> str:
        """The path or pattern, as log lines name it."""
        return self.path if self.path is not None else f"pattern {self.pattern}"

    def check(self) -> list[dict[str, Any]] | None:
        """Return the matching entries once the condition is met, else ``None``."""
        try:
            if not self._prepared:
                self.hook.prepare_collections([self.endpoint])
                self._prepared = True
            entries = self._find()
        except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError) as error:
            if not is_transient(error):
                raise GlobusError(
                    f"Checking {self.target} on collection {self.endpoint} failed: "
                    f"{describe_error(error)}: {getattr(error, 'message', error)}"
                ) from error
            kind = describe_error(error)
            if kind not in self._warned:
                self._warned.add(kind)
                self._logger.warning(
                    "Collection %s is unavailable (%s); checking %s again later",
                    self.endpoint,
                    kind,
                    self.target,
                )
            return None

        self._warned.clear()
        if len(entries) >= self.min_matches:
            self._logger.info(
                "Found %s on collection %s: %d matching entries",
                self.target,
                self.endpoint,
                len(entries),
            )
            return entries
        if len(entries) != self._last_count:
            self._last_count = len(entries)
            self._logger.info(
                "Waiting for %s on collection %s: %d of %d matching entries so far",
                self.target,
                self.endpoint,
                len(entries),
                self.min_matches,
            )
        return None

    def _find(self) -> list[dict[str, Any]]:
        client = self.hook.transfer_client
        if self.path is not None:
            entry = listing.stat_path(client, self.endpoint, self.path, local_user=self.local_user)
            return [] if entry is None else [entry]
        return listing.match_pattern(
            client, self.endpoint, self.pattern, local_user=self.local_user
        )


class GlobusPathTrigger(BaseTrigger):
    """Check a path condition every ``poll_interval`` seconds until it is met or time runs out.

    The trigger yields exactly one event, a dict with ``status``
    (``success``, ``timeout`` or ``error``), ``message`` and ``entries``
    (the matching entries on success, else an empty list).

    :param endpoint: UUID of the collection
    :param path: the path to wait for; give this or ``pattern``
    :param pattern: a path whose components may be globs
    :param min_matches: how many entries ``pattern`` must match
    :param local_user: local account to use on a mapped collection
    :param poll_interval: seconds between checks
    :param end_time: wall-clock time (seconds since the epoch) when the wait
        times out; ``None`` waits forever
    :param globus_conn_id: the Airflow connection of type ``globus``
    """

    def __init__(
        self,
        *,
        endpoint: str,
        path: str | None = None,
        pattern: str | None = None,
        min_matches: int = 1,
        local_user: str | None = None,
        poll_interval: float = 60.0,
        end_time: float | None = None,
        globus_conn_id: str = GlobusHook.default_conn_name,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.path = path
        self.pattern = pattern
        self.min_matches = min_matches
        self.local_user = local_user
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.globus_conn_id = globus_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "endpoint": self.endpoint,
                "path": self.path,
                "pattern": self.pattern,
                "min_matches": self.min_matches,
                "local_user": self.local_user,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "globus_conn_id": self.globus_conn_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        target = self.path if self.path is not None else f"pattern {self.pattern}"
        try:
            hook = await build_hook(self.globus_conn_id)
            probe = PathProbe(
                hook,
                endpoint=self.endpoint,
                path=self.path,
                pattern=self.pattern,
                min_matches=self.min_matches,
                local_user=self.local_user,
                logger=self.log,
            )
            event = await self._wait(probe)
        except Exception as err:
            self.log.exception("Waiting for %s on collection %s failed", target, self.endpoint)
            event = self._event("error", f"Waiting for {target} failed: {err}")
        yield TriggerEvent(event)

    async def _wait(self, probe: PathProbe) -> dict[str, Any]:
        while True:
            entries = await asyncio.to_thread(probe.check)
            if entries is not None:
                message = f"Found {probe.target} on collection {self.endpoint}"
                return self._event("success", message, entries=entries)

            pause = self.poll_interval
            if self.end_time is not None:
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    message = f"{probe.target} did not appear on collection {self.endpoint} in time"
                    return self._event("timeout", message)
                pause = min(pause, remaining)
            await asyncio.sleep(pause)

    @staticmethod
    def _event(
        status: str, message: str, *, entries: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        return {"status": status, "message": message, "entries": entries or []}
