"""Who may call the gateway over HTTP: `Authorization: Bearer <token>`, or the UI's cookie.

Tokens are compared in constant time. An empty configured token disables the check (tests of
one service alone; the platform always sets one).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from flow.errors import UnauthenticatedError

COOKIE_NAME = "flow_token"


class TokenAuth:
    """Checks requests against the API token."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def is_valid(self, presented: str | None) -> bool:
        if not self._token:
            return True
        return hmac.compare_digest((presented or "").encode(), self._token)

    def bearer_of(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None

    def require_bearer(self, request: Request) -> None:
        """Raise UnauthenticatedError unless the request carries the bearer token."""
        if not self.is_valid(self.bearer_of(request)):
            raise UnauthenticatedError(
                "Missing or invalid bearer token: send 'Authorization: Bearer <token>'.")

    def is_browser_authorized(self, request: Request) -> bool:
        """The UI accepts the cookie set at /login, or the bearer header."""
        return self.is_valid(request.cookies.get(COOKIE_NAME)) or self.is_valid(
            self.bearer_of(request))
