"""Errors a user can cause. Each has an HTTP status and a message key (translated in
i18n.py); routes turn them into a 4xx response, never a 500."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    def __init__(
        self, status: int, key: str, headers: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.headers = headers or {}
        self.params = params


class ServiceError(Exception):
    """A call to an outside service failed (integrations/ raise subclasses). `transient`:
    the service is down or overloaded for a moment, and the same call may succeed soon;
    `service` names it in logs. db/outage.py decides on these without knowing the client."""

    service = "other"

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
