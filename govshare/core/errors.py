"""Domain errors with stable machine codes.

Services raise these; the web edge maps each to one JSON shape
``{"error": {"code", "message", "details"}}`` and the CLI prints the message. ``code`` values are
part of the API contract: clients switch on them, so they never change once released.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; ``status`` is the HTTP status the edge answers with."""

    status = 400

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(DomainError):
    """Input breaks a rule (over-long name, unknown data type, missing legal basis …)."""

    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request clashes with what is stored (duplicate code, wrong lifecycle state)."""

    status = 409


class PermissionDenied(DomainError):
    """The actor is known but may not do this (other department's resource, wrong role)."""

    status = 403


class Unauthenticated(DomainError):
    status = 401


class PayloadTooLarge(DomainError):
    status = 413
