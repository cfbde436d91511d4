"""Domain errors and the one table that maps them to gRPC codes, HTTP statuses and exit codes.

    FlowError
    ├── InvalidArgumentError      INVALID_ARGUMENT     400  exit 2
    ├── NotFoundError             NOT_FOUND            404  exit 1
    ├── AlreadyExistsError        ALREADY_EXISTS       409  exit 1
    ├── FailedPreconditionError   FAILED_PRECONDITION  400  exit 1
    ├── ConflictError             ABORTED              409  exit 1
    ├── UnauthenticatedError      UNAUTHENTICATED      401  exit 1
    ├── PermissionDeniedError     PERMISSION_DENIED    403  exit 1
    ├── UnavailableError          UNAVAILABLE          503  exit 1
    └── InternalError             INTERNAL             500  exit 1

This module imports neither grpc nor starlette, so cores can raise these errors; the
transports (flow/grpcutil.py, the gateway) translate them once at the boundary.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping


class Code(enum.IntEnum):
    """Mirrors google.rpc.Code, so the transports can translate without a lookup table."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


HTTP_STATUS: Mapping[Code, int] = {
    Code.INVALID_ARGUMENT: 400,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.UNAUTHENTICATED: 401,
    Code.PERMISSION_DENIED: 403,
    Code.UNAVAILABLE: 503,
    Code.DEADLINE_EXCEEDED: 504,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.UNIMPLEMENTED: 501,
}


class FlowError(Exception):
    """Base of every domain error: a stable `reason` and a message written for the user."""

    code: Code = Code.INTERNAL
    default_reason: str = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    @property
    def exit_code(self) -> int:
        return 2 if self.code is Code.INVALID_ARGUMENT else 1


class InvalidArgumentError(FlowError):
    code = Code.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        meta = dict(metadata or {})
        if field:
            meta["field"] = field
        super().__init__(message, reason=reason, metadata=meta)
        self.field = field


class NotFoundError(FlowError):
    code = Code.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExistsError(FlowError):
    code = Code.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class FailedPreconditionError(FlowError):
    code = Code.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class ConflictError(FlowError):
    code = Code.ABORTED
    default_reason = "CONFLICT"


class UnauthenticatedError(FlowError):
    code = Code.UNAUTHENTICATED
    default_reason = "BAD_TOKEN"


class PermissionDeniedError(FlowError):
    code = Code.PERMISSION_DENIED
    default_reason = "ROLE_FORBIDS"


class UnavailableError(FlowError):
    code = Code.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class InternalError(FlowError):
    code = Code.INTERNAL
    default_reason = "INTERNAL"


ERROR_BY_CODE: Mapping[Code, type[FlowError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        FailedPreconditionError,
        ConflictError,
        UnauthenticatedError,
        PermissionDeniedError,
        UnavailableError,
        InternalError,
    )
}


def error_for_code(code: int, message: str, reason: str = "", **metadata: str) -> FlowError:
    """Rebuild the domain error for a status code received from another service."""
    cls = ERROR_BY_CODE.get(Code(code) if code in Code._value2member_map_ else Code.INTERNAL,
                            InternalError)
    if cls is InvalidArgumentError:
        return InvalidArgumentError(message, field=metadata.pop("field", ""),
                                    reason=reason or None, metadata=metadata)
    return cls(message, reason=reason or None, metadata=metadata)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """"; did you mean 'x'?" naming the known id nearest to `name`, or "" when none is
    close (for NOT_FOUND messages of DAG and task ids)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
