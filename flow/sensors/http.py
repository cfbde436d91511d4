"""HttpSensor: poke an HTTP endpoint (Airflow's `airflow.providers.http.sensors.http`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from flow.operators.http import url_and_auth
from flow.operators.python import determine_kwargs
from flow.sdk.context import Context
from flow.sdk.exceptions import FlowException
from flow.sensors.base import BaseSensorOperator


class HttpSensor(BaseSensorOperator):
    """Done when the endpoint answers without an error status and `response_check` (if any)
    returns true. A 404 means "not yet" (as Airflow); another 4xx/5xx fails the task.

    Args:
        endpoint: the path under the connection's base URL, or a full URL.
        http_conn_id: connection giving the base URL and basic-auth login (optional).
        method: HTTP method (default GET).
        request_params: query parameters (GET) or form body.
        headers: request headers.
        response_check: called with the response (and context keys it names).
        extra_options: `timeout` (seconds), `verify` (TLS).
    """

    template_fields = ("endpoint", "request_params", "headers")

    def __init__(self, *, endpoint: str, http_conn_id: str | None = "http_default",
                 method: str = "GET", request_params: dict[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None,
                 response_check: Callable[..., Any] | None = None,
                 extra_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method.upper()
        self.request_params = dict(request_params or {})
        self.headers = dict(headers or {})
        self.response_check = response_check
        self.extra_options = dict(extra_options or {})

    def poke(self, context: Context) -> bool:
        # The URL and login come from the connection exactly as HttpOperator reads them.
        url, auth = url_and_auth(self.endpoint, self.http_conn_id,
                                 f"HttpSensor '{self.task_id}'")
        print(f"Poking: {self.method} {url}", flush=True)
        request: dict[str, Any] = {"headers": self.headers}
        if self.method == "GET":
            request["params"] = self.request_params
        elif self.request_params:
            request["data"] = self.request_params
        options = self.extra_options
        with httpx.Client(timeout=options.get("timeout", 60.0),
                          verify=options.get("verify", True), auth=auth) as client:
            response = client.request(self.method, url, **request)
        if response.status_code == 404:
            return False
        if response.is_error:
            raise FlowException(f"{response.status_code}:{response.reason_phrase}")
        if self.response_check is not None:
            kwargs = determine_kwargs(self.response_check, [response], context)
            return bool(self.response_check(response, **kwargs))
        return True
