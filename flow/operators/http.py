"""HttpOperator: one HTTP request with httpx (Airflow's http provider operator).

The base URL comes from the connection `http_conn_id` (connection_source.lookup); with
`http_conn_id=None`, or a connection without a host, `endpoint` is used as the whole URL, as
Airflow's HttpHook does when its base URL is empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from flow.operators.connection_source import lookup
from flow.operators.python import determine_kwargs
from flow.sdk.baseoperator import BaseOperator
from flow.sdk.context import Context
from flow.sdk.exceptions import FlowException


class HttpOperator(BaseOperator):
    """Call an HTTP endpoint; the response text (or response_filter's value) is the XCom.

    Args:
        endpoint: the path under the connection's base URL, or a full URL.
        method: HTTP method (default POST, as Airflow).
        data: the body (str, bytes or a dict sent form-encoded); for GET, the query params.
        headers: request headers.
        response_check: called with the response (and context keys it names); a falsy result
            fails the task.
        response_filter: called with the response; its value becomes the XCom.
        extra_options: `timeout` (seconds), `verify` (TLS), `check_response` (default True:
            a 4xx/5xx status fails the task).
        http_conn_id: connection giving the base URL and basic-auth login.
        log_response: log the response body.
    """

    template_fields = ("endpoint", "data", "headers")
    template_ext = (".json",)
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        method: str = "POST",
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        response_check: Callable[..., Any] | None = None,
        response_filter: Callable[..., Any] | None = None,
        extra_options: dict[str, Any] | None = None,
        http_conn_id: str | None = "http_default",
        log_response: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.method = method.upper()
        self.data = data
        self.headers = dict(headers or {})
        self.response_check = response_check
        self.response_filter = response_filter
        self.extra_options = dict(extra_options or {})
        self.http_conn_id = http_conn_id
        self.log_response = log_response

    def _url_and_auth(self) -> tuple[str, httpx.BasicAuth | None]:
        return url_and_auth(self.endpoint, self.http_conn_id, f"HttpOperator '{self.task_id}'")

    def execute(self, context: Context) -> Any:
        url, auth = self._url_and_auth()
        print(f"Calling HTTP method {self.method} {url}", flush=True)
        request: dict[str, Any] = {"headers": self.headers}
        if self.method == "GET":
            request["params"] = self.data
        elif isinstance(self.data, Mapping):
            request["data"] = dict(self.data)
        elif isinstance(self.data, str | bytes):
            request["content"] = self.data
        elif self.data is not None:
            request["content"] = json.dumps(self.data)
        options = self.extra_options
        with httpx.Client(timeout=options.get("timeout", 60.0), verify=options.get(
                "verify", True), auth=auth) as client:
            response = client.request(self.method, url, **request)
        if self.log_response:
            print(response.text, flush=True)
        if options.get("check_response", True) and response.is_error:
            raise FlowException(f"{response.status_code}:{response.reason_phrase}")
        if self.response_check is not None:
            kwargs = determine_kwargs(self.response_check, [response], context)
            if not self.response_check(response, **kwargs):
                raise FlowException("Response check returned False.")
        if self.response_filter is not None:
            kwargs = determine_kwargs(self.response_filter, [response], context)
            return self.response_filter(response, **kwargs)
        return response.text


def url_and_auth(endpoint: str | None, http_conn_id: str | None,
                 who: str) -> tuple[str, httpx.BasicAuth | None]:
    """The URL of `endpoint` under the connection's base URL (or `endpoint` itself when it
    is a full URL and there is no such connection), and the connection's basic auth."""
    endpoint = endpoint or ""
    conn = lookup(http_conn_id)
    if conn is None or not conn.host:
        if not endpoint.startswith(("http://", "https://")):
            raise FlowException(
                f"{who}: no connection '{http_conn_id}' with a host, and endpoint "
                f"{endpoint!r} is not a full URL")
        return endpoint, None
    base = conn.host if "://" in conn.host else f"{conn.schema or 'http'}://{conn.host}"
    if conn.port:
        base = f"{base}:{conn.port}"
    url = base.rstrip("/") + "/" + endpoint.lstrip("/") if endpoint else base
    auth = httpx.BasicAuth(conn.login, conn.password) if conn.login else None
    return url, auth


# Airflow's older name for the same operator.
SimpleHttpOperator = HttpOperator
