"""Domain errors carry a message fit for the person using the platform (already translatable).

Views catch DomainError, flash or show its message and return a 4xx; anything else is a bug and
reaches the 500 handler, which logs it with the request id and rolls back.
"""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409
