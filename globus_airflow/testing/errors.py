"""Exceptions that route handlers raise to send a Globus error response."""

from __future__ import annotations

from typing import Any


class TransferError(Exception):
    """A Transfer API error: sent as ``{"code", "message", "request_id", "resource"}``.

    ``extra`` contains further body fields, such as the ``required_scopes`` of ``ConsentRequired``.
    """

    def __init__(self, status: int, code: str, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})


class OAuthError(Exception):
    """A Globus Auth token endpoint error: sent as ``{"error": ..., "error_description"?: ...}``."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(f"{status} {error}: {description or ''}")
        self.status = status
        self.error = error
        self.description = description
