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
