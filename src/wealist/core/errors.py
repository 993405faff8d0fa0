"""One exception tree for every service, rendered in each service's own envelope.

    AppError                      500 INTERNAL_ERROR
    ├── BadRequest                400 BAD_REQUEST
    │   └── ValidationFailed      400 VALIDATION_ERROR
    ├── Unauthorized              401 UNAUTHORIZED
    │   └── TokenRejected         401 UNAUTHORIZED (+ reason, AUTH00x on the auth service)
    ├── Forbidden                 403 FORBIDDEN
    ├── NotFound                  404 NOT_FOUND
    ├── MethodNotAllowed          405 METHOD_NOT_ALLOWED
    ├── Timeout                   408 TIMEOUT
    ├── Conflict                  409 CONFLICT
    │   └── AlreadyExists         409 ALREADY_EXISTS
    ├── Gone                      410 GONE
    ├── PayloadTooLarge           413 PAYLOAD_TOO_LARGE
    ├── TooManyRequests           429 TOO_MANY_REQUESTS
    └── ServiceUnavailable        503 SERVICE_UNAVAILABLE

Services raise these (or subclasses with their own ``code``) from ``actions``; transports
never build error bodies themselves. The wire shapes are the contract's section 2.2: the
frontend reads ``error.code``/``error.message`` from most services, ``code``/``message``
from auth and ``message`` from ops. Every envelope also carries ``requestId`` (additive).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

__all__ = (
    "AlreadyExists",
    "AppError",
    "BadRequest",
    "Conflict",
    "Envelope",
    "Forbidden",
    "Gone",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "Timeout",
    "TokenReason",
    "TokenRejected",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "envelope",
    "envelope_schema",
    "error_for_status",
)


class AppError(Exception):
    """Something went wrong that the client should hear about in a stable form."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: object = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may refine its class's code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(AppError):
    status = 400
    code = "BAD_REQUEST"
    default_message = "Bad request"


class ValidationFailed(BadRequest):
    code = "VALIDATION_ERROR"
    default_message = "Invalid request"


class Unauthorized(AppError):
    status = 401
    code = "UNAUTHORIZED"
    default_message = "Authentication required"


class TokenReason(enum.Enum):
    """Why an access token was refused."""

    MISSING = "missing"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNVERIFIABLE = "unverifiable"  # revocation could not be checked: fail closed


# reason -> (the auth service's legacy code, message)
_TOKEN_REASONS = {
    TokenReason.MISSING: ("AUTH007", "Missing access token"),
    TokenReason.MALFORMED: ("AUTH004", "Malformed token"),
    TokenReason.UNSUPPORTED: ("AUTH005", "Unsupported token"),
    TokenReason.BAD_SIGNATURE: ("AUTH003", "Invalid token signature"),
    TokenReason.EXPIRED: ("AUTH002", "Token expired"),
    TokenReason.INVALID: ("AUTH001", "Invalid token"),
    TokenReason.REVOKED: ("AUTH006", "Token revoked"),
    TokenReason.UNVERIFIABLE: ("AUTH001", "Token cannot be verified right now"),
}


class TokenRejected(Unauthorized):
    """An access token was missing or refused; ``reason`` says which check failed."""

    def __init__(self, reason: TokenReason) -> None:
        legacy_code, message = _TOKEN_REASONS[reason]
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})
        self.reason = reason
        self.legacy_code = legacy_code


class Forbidden(AppError):
    status = 403
    code = "FORBIDDEN"
    default_message = "Forbidden"


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Timeout(AppError):
    status = 408
    code = "TIMEOUT"
    default_message = "Request timed out"


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    default_message = "Conflict"


class AlreadyExists(Conflict):
    code = "ALREADY_EXISTS"
    default_message = "Already exists"


class Gone(AppError):
    status = 410
    code = "GONE"
    default_message = "Gone"


class PayloadTooLarge(AppError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body too large"


class TooManyRequests(AppError):
    status = 429
    code = "TOO_MANY_REQUESTS"
    default_message = "Too many requests"


class ServiceUnavailable(AppError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "Service unavailable"


_BY_STATUS: dict[int, type[AppError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    408: Timeout,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def error_for_status(status: int, message: str | None = None) -> AppError:
    """The AppError for a framework-level HTTP status (routing, body limits, parsing)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        return AppError() if status >= 500 else BadRequest(message)
    return cls(message)


# --- envelopes -------------------------------------------------------------------------

Body = dict[str, Any]
Envelope = Callable[[AppError, str], Body]


def _nested(exc: AppError, request_id: str) -> Body:
    return {"error": {"code": exc.code, "message": exc.message}, "requestId": request_id}


def _success_false(exc: AppError, request_id: str) -> Body:
    return {
        "success": False,
        "error": {"code": exc.code, "message": exc.message},
        "requestId": request_id,
    }


def _auth(exc: AppError, request_id: str) -> Body:
    code = exc.legacy_code if isinstance(exc, TokenRejected) else exc.code
    return {"code": code, "message": exc.message, "requestId": request_id}


def _ops(exc: AppError, request_id: str) -> Body:
    return {"success": False, "message": exc.message, "code": exc.code, "requestId": request_id}


ENVELOPES: dict[str, Envelope] = {
    "auth": _auth,
    "user": _nested,
    "board": _nested,
    "chat": _success_false,
    "noti": _success_false,
    "storage": _nested,
    "video": _success_false,
    "ops": _ops,
}


def envelope(name: str) -> Envelope:
    """The error renderer named by a service spec (contract section 2.2)."""
    return ENVELOPES[name]


# --- the envelopes as types, for the OpenAPI documents (schemathesis checks them) ---------


class ErrorDetail(msgspec.Struct, frozen=True):
    code: str
    message: str


class NestedError(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    error: ErrorDetail
    request_id: str
    details: Any = None


class SuccessFalseError(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    success: bool
    error: ErrorDetail
    request_id: str
    details: Any = None


class AuthError(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    code: str
    message: str
    request_id: str
    details: Any = None


class OpsError(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    success: bool
    message: str
    code: str
    request_id: str
    details: Any = None


_SCHEMAS: dict[Envelope, type[msgspec.Struct]] = {
    _nested: NestedError,
    _success_false: SuccessFalseError,
    _auth: AuthError,
    _ops: OpsError,
}


def envelope_schema(name: str) -> type[msgspec.Struct]:
    """The type of a service's error envelope (its OpenAPI documents declare it)."""
    return _SCHEMAS[ENVELOPES[name]]
