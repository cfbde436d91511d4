"""The web UI: the page shell of the single-page app (services/api/static), and the sign-in and
sign-out forms.

The shell carries no data: the app's ES modules read everything from /api/v1 with the session
cookie and render it as text (never as HTML). POST /login checks a username and password and
opens a server-side session: its secret goes in an HttpOnly, SameSite=Strict cookie that ends
with the session; a second, readable cookie holds the session's CSRF token, which every
mutation made with the cookie must echo (the X-CSRF-Token header, or the csrf_token form field
of /logout). The shell never renders without a valid session cookie or bearer header; without
one it redirects to /login. Every page answers with a Content-Security-Policy that allows only
this origin's scripts and styles.
"""

from __future__ import annotations

import pathlib
from html import escape
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flow.errors import PermissionDeniedError, UnauthenticatedError
from flow.identity import csrf_token_for
from services.api.auth import CSRF_COOKIE, SESSION_COOKIE, Gatekeeper

MAX_FORM_BYTES = 8192
STATIC_DIR = pathlib.Path(__file__).parent / "static"

# Scripts and styles only from this origin: a payload that slipped into the DOM as markup
# still could not run (the app never writes data as HTML in the first place).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": CSP, "Referrer-Policy": "same-origin",
                "X-Frame-Options": "DENY"}

_SHELL = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flow</title><link rel="stylesheet" href="/static/app.css">
<script type="module" src="/static/js/app.js"></script></head>
<body><header id="top"></header><main id="main"><p class="muted">Loading…</p></main></body></html>
"""

_LOGIN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flow: sign in</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="login"><main class="login-box"><h1>Flow</h1><p id="login-message">{message}</p>
<form method="post" action="/login">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password"
 required></label>
<button type="submit">Sign in</button></form></main></body></html>
"""


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _login_form(message: str, status: int = 200) -> HTMLResponse:
    return _page(_LOGIN.format(message=escape(message)), status=status)


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (small: a sign-in form)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def _same_origin(request: Request) -> bool:
    """A form post from another site is refused (login CSRF); a missing Origin is allowed
    (old browsers and scripts send none)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


class WebUI:
    """GET / (the app's shell), GET and POST /login, POST /logout."""

    def __init__(self, gate: Gatekeeper) -> None:
        self._gate = gate

    async def login_form(self, request: Request) -> Response:
        if request.query_params.get("expired"):
            return _login_form("Your session has ended; sign in again.")
        return _login_form("Sign in with your Flow username and password.")

    async def login(self, request: Request) -> Response:
        if not _same_origin(request):
            return _login_form("Sign in from this site's own page.", status=403)
        form = await _form(request)
        try:
            _principal, secret = await self._gate.login(form.get("username", ""),
                                                        form.get("password", ""))
        except UnauthenticatedError as exc:
            return _login_form(exc.message, status=401)
        response = RedirectResponse("/", status_code=303)
        secure = request.url.scheme == "https"
        ttl = self._gate.session_ttl_seconds
        response.set_cookie(SESSION_COOKIE, secret, max_age=ttl, httponly=True,
                            samesite="strict", secure=secure, path="/")
        response.set_cookie(CSRF_COOKIE, csrf_token_for(secret), max_age=ttl, httponly=False,
                            samesite="strict", secure=secure, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        principal = await self._gate.authenticate(request.cookies.get(SESSION_COOKIE))
        if principal.credential != "session":
            raise UnauthenticatedError("The session cookie holds no session; sign in again.")
        form = await _form(request)
        self._gate.check_csrf(principal, request.headers.get("x-csrf-token")
                              or form.get("csrf_token"))
        await self._gate.logout(principal)
        await self._gate.audit(principal.username, "Logout", None, None, "ui")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    async def home(self, request: Request) -> Response:
        """The app's shell, for a caller with a session (or a bearer token)."""
        try:
            await self._gate.admit_http("WhoAmI", request)
        except (UnauthenticatedError, PermissionDeniedError):
            return RedirectResponse("/login", status_code=303)
        return _page(_SHELL)


__all__ = ["CSP", "STATIC_DIR", "WebUI"]
