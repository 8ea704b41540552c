"""Exceptions raised by the Globus provider.

Every class derives from Airflow's exceptions so that Airflow's retry rules
apply: subclasses of :class:`AirflowFailException` fail the Airflow task
without using its retries, because a retry cannot fix what they report.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class GlobusError(AirflowException):
    """Base class for errors raised by the Globus provider."""


class GlobusInputError(AirflowFailException, ValueError):
    """An operator or sensor argument is invalid.

    Raised before any request that changes state, at DAG parse time where the
    value is static. The message names the argument, the value and the fix.
    """


class GlobusConnectionConfigError(AirflowFailException):
    """The Airflow connection for Globus is missing a field or contains an invalid value."""


class GlobusConsentError(AirflowFailException):
    """Globus Transfer still requires a consent after the hook requested it in a new token.

    Only an administrator of the collection can fix this, so Airflow does not
    retry. The message names the collections, the app's client identity and
    what to grant.

    :param message: the full explanation shown in the task log
    :param collection_ids: the collections whose consent is missing
    :param required_scopes: the scopes that Transfer asked for
    """

    def __init__(
        self,
        message: str,
        *,
        collection_ids: tuple[str, ...] = (),
        required_scopes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.collection_ids = collection_ids
        self.required_scopes = required_scopes


class GlobusTaskError(GlobusError):
    """A Globus task ended in a state other than SUCCEEDED, or stalled.

    :param message: the full explanation shown in the task log
    :param globus_task_id: the Globus task id
    :param status: the Globus task status, such as ``FAILED`` or ``INACTIVE``
    :param code: the Globus error code that best explains the outcome, if any
    """

    def __init__(
        self,
        message: str,
        *,
        globus_task_id: str,
        status: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.globus_task_id = globus_task_id
        self.status = status
        self.code = code


class GlobusTaskFatalError(GlobusTaskError, AirflowFailException):
    """A Globus task failed for a reason that a retry cannot fix.

    Examples are a bad path, a denied permission, and a cancel by a user or an
    administrator.
    """


class GlobusTaskTimeoutError(GlobusTaskError):
    """The wait for a Globus task passed its overall timeout."""
