"""Exceptions mirroring the service's error answers (`{statusCode, error, code, message, field?}`)."""
from __future__ import annotations

from typing import Any, Dict, Optional


class MctnasError(Exception):
    """Base class of every error this client raises."""


class TransportError(MctnasError):
    """The service could not be reached (after the retries), or answered something that is not JSON."""


class ApiError(MctnasError):
    """An HTTP error answer of the service. `code` is its stable machine-readable name."""

    status: int
    code: str
    field: Optional[str]
    body: Dict[str, Any]

    def __init__(self, status: int, body: Dict[str, Any]):
        self.status = status
        self.body = body
        self.code = str(body.get("code") or body.get("error") or f"HTTP{status}")
        self.field = body.get("field")
        message = body.get("message")
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        super().__init__(f"HTTP {status} {self.code}: {message}" + (f" (field {self.field})" if self.field else ""))


class BadRequestError(ApiError):
    """400: malformed input; `field` names it (e.g. `body.loss`)."""


class UnauthorizedError(ApiError):
    """401: missing or wrong bearer token."""


class NotFoundError(ApiError):
    """404: unknown experiment."""


class ConflictError(ApiError):
    """409: a lease, version, idempotency or lifecycle conflict."""


class LeaseConflictError(ConflictError):
    """409 LeaseConflictError: another worker holds the lease, or this lease is no longer in force."""


class IdempotencyConflictError(ConflictError):
    """409 IdempotencyConflictError: a different value for a step or answer already recorded."""


class ExperimentStateError(ConflictError):
    """409 ExperimentStateError: paused, completed or failed."""


class PositionNotReachedError(ConflictError):
    """409 PositionNotReachedError: `minPosition`/`at` not reached in time; retry."""


class UnprocessableError(ApiError):
    """422: well-formed but invalid (a NaN loss, a step that is not the pending one, ...)."""


class StepOrderError(UnprocessableError):
    """422 StepOrderError: not the step or search question the experiment expects."""


class UnavailableError(ApiError):
    """503: the service or its database is unavailable; retried by the client, raised when retries run out."""


_BY_CODE = {
    "LeaseConflictError": LeaseConflictError,
    "IdempotencyConflictError": IdempotencyConflictError,
    "ExperimentStateError": ExperimentStateError,
    "PositionNotReachedError": PositionNotReachedError,
    "StepOrderError": StepOrderError,
}
_BY_STATUS = {400: BadRequestError, 401: UnauthorizedError, 404: NotFoundError, 409: ConflictError, 422: UnprocessableError, 503: UnavailableError}


def error_for(status: int, body: Dict[str, Any]) -> ApiError:
    """The most specific exception for an error answer."""
    by_status = _BY_STATUS.get(status, ApiError)
    by_code = _BY_CODE.get(str(body.get("code")))
    # The code refines the status class (a 409 LeaseConflictError), never contradicts it.
    if by_code is not None and issubclass(by_code, by_status):
        return by_code(status, body)
    return by_status(status, body)
