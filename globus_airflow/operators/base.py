"""Shared machinery of operators that submit a Globus task and wait for it."""

from __future__ import annotations

import json
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

import globus_sdk

from airflow.providers.common.compat.sdk import BaseOperator, conf
from globus_airflow.exceptions import GlobusTaskTimeoutError
from globus_airflow.hooks.globus import GlobusHook
from globus_airflow.links.task import TASK_ID_XCOM_KEY, TASK_URL_XCOM_KEY, GlobusTaskLink
from globus_airflow.operators.parts import TaskPartsMixin
from globus_airflow.triggers.task import GlobusTaskTrigger
from globus_airflow.utils import validation
from globus_airflow.utils.cancel import cancel_task
from globus_airflow.utils.outcome import (
    Outcome,
    Verdict,
    evaluate,
    raise_for_outcome,
    resolve_trigger_event,
    summarize,
)
from globus_airflow.utils.parts import part_key, part_label, split_document
from globus_airflow.utils.retries import DEFAULT_TRANSIENT_ERROR_BUDGET, TransientErrorBudget
from globus_airflow.utils.stall import DEFAULT_STALL_TIMEOUT
from globus_airflow.utils.submissions import (
    PriorTask,
    SubmissionTracker,
    label_key,
    label_with_key,
)
from globus_airflow.utils.task_documents import document_as_json
from globus_airflow.utils.waiting import TaskPoller, wait_for_task

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

DEFAULT_POLL_INTERVAL = 15.0
"""Seconds between status reads while waiting; one read is one Transfer API request."""

DEFAULT_HEARTBEAT_INTERVAL = 300.0
"""Seconds between "unchanged" log lines while a task makes no visible progress."""

SUMMARY_XCOM_KEY = "globus_task_summary"
"""XCom key of the finished task's counters."""

COLLECTION_FIELDS = ("source_endpoint", "destination_endpoint", "endpoint")
"""Fields of transfer and delete task documents that hold collection ids."""

DOCUMENTS_XCOM_KEY = "globus_task_documents"
"""XCom key of the task documents that ``dry_run=True`` renders instead of submitting."""


class GlobusBaseTaskOperator(TaskPartsMixin, BaseOperator):
    """Submit one Globus task and wait for it, in the worker or in the triggerer.

    Subclasses build the task document and submit it; this class owns the
    rest: the XComs pushed before waiting, the blocking and deferred waits,
    the outcome rules, timeouts and the cancel on kill.

    :param wait_for_completion: wait for the task to end; when false the
        operator returns right after submitting
    :param poll_interval: seconds between status reads, 15 by default
    :param timeout: seconds to wait in all, counted from submission;
        ``None`` (the default) waits until Globus ends the task
    :param stall_timeout: seconds without progress, under a fault that needs
        a human (such as PERMISSION_DENIED or FILE_NOT_FOUND), before the
        Airflow task fails; 1800 by default, ``None`` waits for the Globus deadline
    :param heartbeat_interval: seconds between "unchanged" log lines, 300 by default
    :param deferrable: wait in the triggerer instead of a worker slot; the
        default comes from Airflow's ``[operators] default_deferrable``
    :param cancel_on_kill: cancel the Globus task when the Airflow task is
        killed, marked or cleared while waiting
    :param cancel_on_timeout: cancel the Globus task when ``timeout`` passes
    :param transient_error_budget: seconds one Globus call may spend retrying
        rate limits (429), 5xx responses, offline-collection errors and network
        errors before the Airflow task fails; 900 by default
    :param max_items_per_task: split the items into Globus tasks of at most
        this many items, labelled ``<label> part 2 of 5``; the Airflow task
        waits on all of them and succeeds only when each one succeeds.
        ``None`` (the default) submits one task
    :param dry_run: log the task documents and push them to XCom under
        ``globus_task_documents`` instead of submitting; no request is sent
    :param globus_conn_id: the Airflow connection of type ``globus``
    """

    operator_extra_links = (GlobusTaskLink(),)
    ui_color = "#c9e4f6"
    globus_task_type = "TRANSFER"
    """The Globus task type that the subclass submits: ``TRANSFER`` or ``DELETE``."""

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        stall_timeout: float | None = DEFAULT_STALL_TIMEOUT,
        heartbeat_interval: float | None = DEFAULT_HEARTBEAT_INTERVAL,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        cancel_on_kill: bool = True,
        cancel_on_timeout: bool = True,
        transient_error_budget: float = DEFAULT_TRANSIENT_ERROR_BUDGET,
        max_items_per_task: int | None = None,
        dry_run: bool = False,
        globus_conn_id: str = GlobusHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_for_completion = wait_for_completion
        self.poll_interval = validation.check_positive_number("poll_interval", poll_interval)
        self.timeout = validation.check_positive_number("timeout", timeout, allow_none=True)
        self.stall_timeout = validation.check_positive_number(
            "stall_timeout", stall_timeout, allow_none=True
        )
        self.heartbeat_interval = validation.check_positive_number(
            "heartbeat_interval", heartbeat_interval, allow_none=True
        )
        self.deferrable = deferrable
        self.cancel_on_kill = cancel_on_kill
        self.cancel_on_timeout = cancel_on_timeout
        self.transient_error_budget = validation.check_positive_number(
            "transient_error_budget", transient_error_budget
        )
        self.max_items_per_task = validation.check_max_items_per_task(max_items_per_task)
        self.dry_run = dry_run
        self.globus_conn_id = globus_conn_id
        self._globus_task_id: str | None = None

    @cached_property
    def hook(self) -> GlobusHook:
        """The Globus hook, built after the operator's fields are rendered."""
        return GlobusHook(globus_conn_id=self.globus_conn_id)

    def build_document(self) -> dict[str, Any]:
        """Check the rendered arguments and build the task document, without a request."""
        raise NotImplementedError

    def submit_document(
        self, client: globus_sdk.TransferClient, document: Any
    ) -> globus_sdk.GlobusHTTPResponse:
        """Send the task document to Globus and return the submission result.

        The document already carries its submission id, so a repeated call
        returns ``Duplicate`` and the original task id.
        """
        raise NotImplementedError

    def execute(self, context: Context) -> str | list[str] | None:
        documents = split_document(self.build_document(), self.max_items_per_task)
        if self.dry_run:
            return self._render_dry_run(context, documents)
        # Mapped collections need data_access consents in the token before the submit.
        self.hook.prepare_collections(documents[0].get(key) for key in COLLECTION_FIELDS)
        if len(documents) > 1:
            return self._execute_parts(context, documents)

        document = documents[0]
        client = self.hook.transfer_client
        tracker = SubmissionTracker.from_context(client, context, task_type=self.globus_task_type)
        label = document.get("label")
        document["label"] = label_with_key(
            None if label is globus_sdk.MISSING else label,
            tracker.key,
            default=f"Airflow {self.dag_id} {self.task_id}",
        )

        budget = TransientErrorBudget(budget=self.transient_error_budget, logger=self.log)
        prior = budget.call("Looking up tasks of earlier tries", tracker.find_prior_task)
        if prior is not None and prior.status != "FAILED":
            return self._resume_prior_task(context, prior)
        if prior is not None:
            self.before_resubmit(prior)

        submission_id = None if prior is not None else tracker.pending_submission_id()
        if submission_id is None:
            submission_id = budget.call("Getting a submission id", tracker.new_submission_id)
        document["submission_id"] = submission_id
        submitted_at = time.time()
        # Retrying the submit is safe: the submission id makes Globus run the task once.
        result = budget.call("Submitting the Globus task", self.submit_document, client, document)

        globus_task_id = result["task_id"]
        tracker.record_task(globus_task_id)
        self._globus_task_id = globus_task_id
        self.log.info(
            "Submitted Globus task %s (%s, submission id %s, label %r)",
            globus_task_id,
            result["code"],
            submission_id,
            document["label"],
        )
        self._push_task_reference(context, globus_task_id)

        if not self.wait_for_completion:
            return globus_task_id
        return self.wait(context, globus_task_id, started_at=submitted_at)

    def before_resubmit(self, prior: PriorTask) -> None:
        """Run before a FAILED task of an earlier try is submitted again; logs by default."""
        self.log.warning(
            "Globus task %s of an earlier try FAILED; submitting the task again",
            prior.globus_task_id,
        )

    def _resume_prior_task(self, context: Context, prior: PriorTask) -> str:
        globus_task_id = prior.globus_task_id
        self._globus_task_id = globus_task_id
        self._push_task_reference(context, globus_task_id)

        if prior.status == "SUCCEEDED":
            self.log.info(
                "Globus task %s of an earlier try already SUCCEEDED; not submitting again",
                globus_task_id,
            )
            return self._finish(context, prior.document, evaluate(prior.document))

        self.log.info(
            "Reattaching to Globus task %s (%s) submitted by an earlier try",
            globus_task_id,
            prior.status,
        )
        if not self.wait_for_completion:
            return globus_task_id
        return self.wait(context, globus_task_id, started_at=time.time())

    def wait(self, context: Context, globus_task_id: str, *, started_at: float) -> str:
        """Wait for a submitted task: check once, then block or defer."""
        poller = self._poller(globus_task_id)
        task, outcome = poller.poll()
        if outcome.verdict is not Verdict.WAIT:
            return self._finish(context, task, outcome)

        end_time = None if self.timeout is None else started_at + self.timeout
        if self.deferrable:
            self.defer(
                trigger=GlobusTaskTrigger(
                    globus_task_id=globus_task_id, **self.trigger_settings(end_time)
                ),
                method_name="execute_complete",
                # The trigger enforces the timeout itself, so that the Globus task is
                # cancelled; a deferral timeout would skip execute_complete.
                timeout=None,
            )

        remaining = None if end_time is None else max(end_time - time.time(), 0.001)
        try:
            task, outcome = wait_for_task(
                poller, poll_interval=self.poll_interval, timeout=remaining
            )
        except GlobusTaskTimeoutError:
            self._cancel_after_timeout(globus_task_id)
            raise
        return self._finish(context, task, outcome)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> str:
        """Resume after the trigger fired and apply the outcome rules to its event."""
        event = resolve_trigger_event(event)
        globus_task_id = event["globus_task_id"]
        self._globus_task_id = globus_task_id

        if event["status"] == "timeout":
            self._cancel_after_timeout(globus_task_id)
            raise GlobusTaskTimeoutError(
                f"{event['message']} (timeout={self.timeout:g} s)",
                globus_task_id=globus_task_id,
                status=event.get("task_status"),
            )

        self._push_summary(context, event.get("summary"))
        self.log.info("%s", event["message"])
        return globus_task_id

    def on_kill(self) -> None:
        if not self.cancel_on_kill:
            return
        for globus_task_id in self._submitted_task_ids():
            self.log.info("Airflow task killed: cancelling Globus task %s", globus_task_id)
            cancel_task(self.hook.transfer_client, globus_task_id, self.log)

    def _render_dry_run(self, context: Context, documents: list[Any]) -> None:
        """Log and push the documents that would be submitted, with their final labels."""
        ti = context["ti"]
        key = label_key(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=getattr(ti, "map_index", -1),
        )
        label = documents[0].get("label")
        label = None if label is globus_sdk.MISSING else label
        default = f"Airflow {self.dag_id} {self.task_id}"

        rendered = []
        for index, document in enumerate(documents):
            if len(documents) == 1:
                document["label"] = label_with_key(label, key, default=default)
            else:
                document["label"] = part_label(
                    label, part_key(key, index), index=index, count=len(documents), default=default
                )
            rendered.append(document_as_json(document))
            self.log.info(
                "Dry run: would submit this %s task document:\n%s",
                self.globus_task_type,
                json.dumps(rendered[-1], indent=2, ensure_ascii=False),
            )
        ti.xcom_push(key=DOCUMENTS_XCOM_KEY, value=rendered)
        self.log.info("Dry run: %d task document(s) rendered; nothing was submitted", len(rendered))

    def trigger_settings(self, end_time: float | None) -> dict[str, Any]:
        """Return the wait settings that every Globus trigger takes as keyword arguments.

        :param end_time: wall-clock time (seconds since the epoch) when the wait
            times out, or ``None``
        """
        return {
            "globus_conn_id": self.globus_conn_id,
            "poll_interval": self.poll_interval,
            "end_time": end_time,
            "stall_timeout": self.stall_timeout,
            "heartbeat_interval": self.heartbeat_interval,
            "cancel_on_kill": self.cancel_on_kill,
            "transient_error_budget": self.transient_error_budget,
        }

    def _poller(self, globus_task_id: str) -> TaskPoller:
        return TaskPoller(
            self.hook.transfer_client,
            globus_task_id,
            logger=self.log,
            stall_timeout=self.stall_timeout,
            heartbeat_interval=self.heartbeat_interval,
            transient_error_budget=self.transient_error_budget,
            client_identity=self.hook.credentials.client_identity,
        )

    def _push_task_reference(self, context: Context, globus_task_id: str) -> None:
        task_url = self.hook.task_url(globus_task_id)
        context["ti"].xcom_push(key=TASK_ID_XCOM_KEY, value=globus_task_id)
        context["ti"].xcom_push(key=TASK_URL_XCOM_KEY, value=task_url)
        self.log.info("Follow Globus task %s in the web app: %s", globus_task_id, task_url)

    def _finish(self, context: Context, task: dict[str, Any], outcome: Outcome) -> str:
        raise_for_outcome(outcome, globus_task_id=task["task_id"], status=task["status"])
        self._push_summary(context, summarize(task))
        self.log.info("%s", outcome.message)
        return task["task_id"]

    def _push_summary(self, context: Context, summary: dict[str, Any] | None) -> None:
        if summary is not None:
            context["ti"].xcom_push(key=SUMMARY_XCOM_KEY, value=summary)

    def _cancel_after_timeout(self, globus_task_id: str) -> None:
        if self.cancel_on_timeout:
            self.log.warning("Timeout passed: cancelling Globus task %s", globus_task_id)
            cancel_task(self.hook.transfer_client, globus_task_id, self.log)
        else:
            self.log.warning(
                "Timeout passed; Globus task %s keeps running (cancel_on_timeout=False)",
                globus_task_id,
            )
