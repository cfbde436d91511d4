"""The web UI: one server-rendered page of DAGs and their recent runs, HTML-escaped.

`/login?token=...` checks the token once and sets an HttpOnly, SameSite=Strict cookie; the
page never renders without a valid cookie or bearer header.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flow.errors import FlowError
from flow.v1 import common_pb2, dag_run_service_pb2, dag_service_pb2
from services.api.auth import COOKIE_NAME, TokenAuth
from services.api.core import GatewayCore

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
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _login_form(message: str) -> HTMLResponse:
    return _page("Flow: sign in", (
        f"<h1>Flow</h1><p>{escape(message)}</p>"
        "<form method='get' action='/login'><label>API token "
        "<input type='password' name='token' autocomplete='off'></label> "
        "<button type='submit'>Sign in</button></form>"), status=401)


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
    """GET / (the page) and GET /login (token to cookie)."""

    def __init__(self, core: GatewayCore, auth: TokenAuth) -> None:
        self._core = core
        self._auth = auth

    async def login(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not self._auth.is_valid(token):
            return _login_form("That token is not valid.")
        response = RedirectResponse("/", status_code=303)
        if self._auth.enabled:
            response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https", path="/")
        return response

    async def _recent_runs(self, dag_id: str) -> Any:
        try:
            response = await self._core.list_dag_runs(
                dag_run_service_pb2.ListDagRunsRequest(dag_id=dag_id, page_size=RECENT_RUNS))
        except FlowError as exc:
            return exc
        return list(response.dag_runs)

    async def home(self, request: Request) -> Response:
        if "token" in request.query_params:
            return await self.login(request)
        if not self._auth.is_browser_authorized(request):
            return _login_form("Sign in with the API token that `flowcli standalone` printed.")
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
        body = ("<h1>Flow</h1><h2>DAGs</h2><table><tr><th>DAG</th><th>Schedule</th>"
                "<th>Status</th><th>Tags</th><th>Recent runs</th></tr>"
                f"{rows or '<tr><td colspan=5 class=muted>No DAGs yet.</td></tr>'}</table>")
        if errors:
            body += "<h2>Import errors</h2>" + "".join(
                f"<h3>{escape(e.filename)}</h3><pre>{escape(e.stacktrace)}</pre>" for e in errors)
        return _page("Flow", body)
