"""Submit a long item list as several Globus tasks and wait for all of them.

:class:`TaskPartsMixin` is a base of
:class:`~globus_airflow.operators.base.GlobusBaseTaskOperator` and runs when
``max_items_per_task`` splits the task document into more than one part.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import globus_sdk

from globus_airflow.exceptions import GlobusError, GlobusTaskTimeoutError
from globus_airflow.links.task import TASK_ID_XCOM_KEY, TASK_URL_XCOM_KEY
from globus_airflow.triggers.parts import GlobusTaskPartsTrigger
from globus_airflow.utils.cancel import cancel_task
from globus_airflow.utils.parts import (
    PartsPoller,
    PartStateStore,
    combine_summaries,
    part_key,
    part_label,
    raise_for_results,
)
from globus_airflow.utils.retries import TransientErrorBudget
from globus_airflow.utils.submissions import SubmissionTracker

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

TASK_IDS_XCOM_KEY = "globus_task_ids"
"""XCom key of the ids of every part's Globus task, pushed before waiting."""


class TaskPartsMixin:
    """Submit each part exactly once, then wait on all parts in the worker or the triggerer.

    Each part is submitted like a single task: an earlier try's part that is
    running or succeeded is reattached, a FAILED one is submitted again, and
    one that was never submitted is submitted now. The return value is the
    list of Globus task ids, in part order.
    """

    _globus_task_ids: list[str] | None = None

    def _execute_parts(self, context: Context, documents: list[Any]) -> list[str]:
        client = self.hook.transfer_client
        base = SubmissionTracker.from_context(client, context, task_type=self.globus_task_type)
        budget = TransientErrorBudget(budget=self.transient_error_budget, logger=self.log)
        label = documents[0].get("label")
        label = None if label is globus_sdk.MISSING else label
        count = len(documents)
        default_label = f"Airflow {self.dag_id} {self.task_id}"
        self.log.info("Submitting %d items as %d Globus tasks", _item_count(documents), count)

        started_at = time.time()
        globus_task_ids: list[str] = []
        self._globus_task_ids = globus_task_ids
        for index, document in enumerate(documents):
            key = part_key(base.key, index)
            store = None if base.state_store is None else PartStateStore(base.state_store, index)
            tracker = SubmissionTracker(
                client, key=key, state_store=store, task_type=self.globus_task_type
            )
            document["label"] = part_label(
                label, key, index=index, count=count, default=default_label
            )
            globus_task_ids.append(
                self._submit_part(client, tracker, document, budget, part=f"{index + 1}/{count}")
            )

        context["ti"].xcom_push(key=TASK_IDS_XCOM_KEY, value=globus_task_ids)
        # NOTE: the "Globus task" button has room for one address, so it opens part 1.
        context["ti"].xcom_push(key=TASK_ID_XCOM_KEY, value=globus_task_ids[0])
        context["ti"].xcom_push(key=TASK_URL_XCOM_KEY, value=self.hook.task_url(globus_task_ids[0]))

        if not self.wait_for_completion:
            return globus_task_ids
        return self._wait_parts(context, globus_task_ids, started_at=started_at)

    def _submit_part(
        self,
        client: globus_sdk.TransferClient,
        tracker: SubmissionTracker,
        document: Any,
        budget: TransientErrorBudget,
        *,
        part: str,
    ) -> str:
        prior = budget.call(f"Looking up part {part} of earlier tries", tracker.find_prior_task)
        if prior is not None and prior.status != "FAILED":
            self.log.info(
                "Part %s: reattaching to Globus task %s (%s) submitted by an earlier try",
                part,
                prior.globus_task_id,
                prior.status,
            )
            return prior.globus_task_id
        if prior is not None:
            self.before_resubmit(prior)

        submission_id = None if prior is not None else tracker.pending_submission_id()
        if submission_id is None:
            submission_id = budget.call(
                f"Getting a submission id for part {part}", tracker.new_submission_id
            )
        document["submission_id"] = submission_id
        # Retrying the submit is safe because the submission id makes Globus run it once.
        result = budget.call(f"Submitting part {part}", self.submit_document, client, document)

        globus_task_id = result["task_id"]
        tracker.record_task(globus_task_id)
        self.log.info(
            "Part %s: submitted Globus task %s (%s, %d items, label %r): %s",
            part,
            globus_task_id,
            result["code"],
            len(document["DATA"]),
            document["label"],
            self.hook.task_url(globus_task_id),
        )
        return globus_task_id

    def _wait_parts(
        self, context: Context, globus_task_ids: list[str], *, started_at: float
    ) -> list[str]:
        poller = PartsPoller(
            self.hook.transfer_client,
            globus_task_ids,
            logger=self.log,
            stall_timeout=self.stall_timeout,
            heartbeat_interval=self.heartbeat_interval,
            transient_error_budget=self.transient_error_budget,
        )
        end_time = None if self.timeout is None else started_at + self.timeout
        if not poller.poll() and self.deferrable:
            self.defer(
                trigger=GlobusTaskPartsTrigger(
                    globus_task_ids=globus_task_ids, **self.trigger_settings(end_time)
                ),
                method_name="execute_complete_parts",
                # The trigger enforces the timeout itself, as for a single task.
                timeout=None,
            )

        while not poller.done:
            remaining = None if end_time is None else end_time - time.time()
            if remaining is not None and remaining <= 0:
                self._raise_parts_timeout(
                    "Globus tasks are still running after the timeout: "
                    f"{poller.describe_waiting()}.",
                    poller.waiting_ids,
                )
            pause = self.poll_interval if remaining is None else min(self.poll_interval, remaining)
            time.sleep(pause)
            poller.poll()
        return self._finish_parts(context, globus_task_ids, poller.results)

    def execute_complete_parts(self, context: Context, event: dict[str, Any]) -> list[str]:
        """Resume after :class:`GlobusTaskPartsTrigger` fired and judge every part."""
        required = ("status", "message", "globus_task_ids", "results")
        if not isinstance(event, Mapping) or any(key not in event for key in required):
            raise GlobusError(
                f"Resumed with an invalid trigger event {event!r}: expected a dict with "
                f"{', '.join(required)}."
            )
        globus_task_ids = list(event["globus_task_ids"])
        self._globus_task_ids = globus_task_ids

        if event["status"] == "timeout":
            ended = {result["globus_task_id"] for result in event["results"]}
            waiting = [task_id for task_id in globus_task_ids if task_id not in ended]
            self._raise_parts_timeout(event["message"], waiting)
        if event["status"] == "error":
            raise GlobusError(event["message"])
        return self._finish_parts(context, globus_task_ids, event["results"])

    def _finish_parts(
        self, context: Context, globus_task_ids: list[str], results: list[dict[str, Any]]
    ) -> list[str]:
        from globus_airflow.operators.base import SUMMARY_XCOM_KEY

        summary = combine_summaries(results)
        context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=summary)
        raise_for_results(results, count=len(globus_task_ids))
        self.log.info(
            "All %d Globus tasks succeeded: %d files and %d directories in all, "
            "%d files transferred, %d files skipped, %d bytes transferred",
            len(globus_task_ids),
            summary["files"],
            summary["directories"],
            summary["files_transferred"],
            summary["files_skipped"],
            summary["bytes_transferred"],
        )
        return globus_task_ids

    def _raise_parts_timeout(self, message: str, waiting_ids: list[str]) -> None:
        if self.cancel_on_timeout:
            for globus_task_id in waiting_ids:
                self.log.warning("Timeout passed: cancelling Globus task %s", globus_task_id)
                cancel_task(self.hook.transfer_client, globus_task_id, self.log)
        else:
            self.log.warning(
                "Timeout passed; Globus tasks %s keep running (cancel_on_timeout=False)",
                ", ".join(waiting_ids),
            )
        raise GlobusTaskTimeoutError(
            f"{message} (timeout={self.timeout:g} s)",
            globus_task_id=waiting_ids[0] if waiting_ids else "",
        )

    def _submitted_task_ids(self) -> list[str]:
        """Return the ids of the Globus tasks this try submitted or reattached to."""
        if self._globus_task_ids:
            return list(self._globus_task_ids)
        single = getattr(self, "_globus_task_id", None)
        return [single] if single else []


def _item_count(documents: list[Any]) -> int:
    return sum(len(document["DATA"]) for document in documents)
