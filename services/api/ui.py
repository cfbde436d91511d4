"""The web UI: one server-rendered page of DAGs and their recent runs, HTML-escaped, and the
sign-in and sign-out forms.

POST /login checks a username and password and opens a server-side session: its secret goes
in an HttpOnly, SameSite=Strict cookie that ends with the session; a second, readable cookie
holds the session's CSRF token, which every mutation made with the cookie must echo (the
X-CSRF-Token header, or the csrf_token form field of /logout). The page never renders without
a valid session cookie or bearer header; without one it redirects to /login.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flow.errors import FlowError, PermissionDeniedError, UnauthenticatedError
from flow.identity import csrf_token_for
from flow.v1 import common_pb2, dag_run_service_pb2, dag_service_pb2
from services.api.auth import CSRF_COOKIE, SESSION_COOKIE, Gatekeeper, Principal
from services.api.core import GatewayCore

MAX_FORM_BYTES = 8192

RECENT_RUNS = 5
_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;
border-bottom:1px solid #ddd;vertical-align:top}.state{display:inline-block;padding:0 .4rem;
margin:0 .2rem .2rem 0;border-radius:.3rem;background:#eee;font-size:.85rem}
.success{background:#c8f0c8}.failed{background:#f6c4c4}.running{background:#c8dcf8}
.queued{background:#eee8c4}.muted{color:#777}"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>", status_code=status,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                            "form-action 'self'; frame-ancestors 'none'"})


def _login_form(message: str, status: int = 200) -> HTMLResponse:
    return _page("Flow: sign in", (
        f"<h1>Flow</h1><p>{escape(message)}</p>"
        "<form method='post' action='/login'>"
        "<p><label>Username <input name='username' autocomplete='username' required></label></p>"
        "<p><label>Password <input type='password' name='password' "
        "autocomplete='current-password' required></label></p>"
        "<button type='submit'>Sign in</button></form>"), status=status)


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


def run_state_name(state: int) -> str:
    name: str = common_pb2.DagRunState.Name(state)
    return name.removeprefix("DAG_RUN_STATE_").lower()


def _runs_cell(runs: Any) -> str:
    if isinstance(runs, FlowError):
        return f"<span class='muted'>{escape(runs.message)}</span>"
    if not runs:
        return "<span class='muted'>no runs</span>"
    cells = []
    for run in runs:
        state = run_state_name(run.state)
        cells.append(f"<span class='state {escape(state)}' title='{escape(run.run_id)}'>"
                     f"{escape(run.run_id)}: {escape(state)}</span>")
    return " ".join(cells)


class WebUI:
    """GET / (the page), GET and POST /login, POST /logout."""

    def __init__(self, core: GatewayCore, gate: Gatekeeper) -> None:
        self._core = core
        self._gate = gate

    async def login_form(self, request: Request) -> Response:
        return _login_form("Sign in with your Flow username and password.")

    async def login(self, request: Request) -> Response:
        if not _same_origin(request):
            return _login_form("Sign in from this site's own page.", status=403)
        form = await _form(request)
        try:
            principal, secret = await self._gate.login(form.get("username", ""),
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
        del principal
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

    async def _recent_runs(self, dag_id: str) -> Any:
        try:
            response = await self._core.list_dag_runs(
                dag_run_service_pb2.ListDagRunsRequest(dag_id=dag_id, page_size=RECENT_RUNS))
        except FlowError as exc:
            return exc
        return list(response.dag_runs)

    async def _principal(self, request: Request) -> Principal | None:
        try:
            return await self._gate.admit_http("ListDags", request)
        except (UnauthenticatedError, PermissionDeniedError):
            return None

    async def home(self, request: Request) -> Response:
        principal = await self._principal(request)
        if principal is None:
            return RedirectResponse("/login", status_code=303)
        dags = (await self._core.list_dags(dag_service_pb2.ListDagsRequest(page_size=100))).dags
        errors = (await self._core.list_import_errors(
            dag_service_pb2.ListImportErrorsRequest())).import_errors
        runs = await asyncio.gather(*(self._recent_runs(d.dag_id) for d in dags))
        rows = "".join(
            f"<tr><td><b>{escape(dag.dag_id)}</b><br><span class='muted'>"
            f"{escape(dag.description)}</span></td><td>{escape(dag.schedule)}</td>"
            f"<td>{'paused' if dag.is_paused else 'active'}</td>"
            f"<td>{escape(', '.join(dag.tags))}</td><td>{_runs_cell(dag_runs)}</td></tr>"
            for dag, dag_runs in zip(dags, runs, strict=True))
        signed_in = (f"<p class='muted'>Signed in as {escape(principal.username)} "
                     f"({escape(principal.role.label)})")
        if principal.credential == "session":
            signed_in += (
                "<form method='post' action='/logout' style='display:inline'>"
                "<input type='hidden' name='csrf_token' "
                f"value='{escape(csrf_token_for(principal.secret))}'> "
                "<button type='submit'>Sign out</button></form>")
        body = (f"<h1>Flow</h1>{signed_in}</p><h2>DAGs</h2><table><tr><th>DAG</th>"
                "<th>Schedule</th><th>Status</th><th>Tags</th><th>Recent runs</th></tr>"
                f"{rows or '<tr><td colspan=5 class=muted>No DAGs yet.</td></tr>'}</table>")
        if errors:
            body += "<h2>Import errors</h2>" + "".join(
                f"<h3>{escape(e.filename)}</h3><pre>{escape(e.stacktrace)}</pre>" for e in errors)
        return _page("Flow", body)
