"""The REST mirror and the HTML page of the gateway, through the four real services."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from flow.platform import Platform

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def http(platform: Platform) -> Iterator[httpx.Client]:
    addresses = platform.addresses
    with httpx.Client(base_url=addresses.http, timeout=30,
                      headers={"Authorization": f"Bearer {addresses.token}"}) as client:
        yield client


def _wait_for_dag(http: httpx.Client, dag_id: str) -> None:
    deadline = time.monotonic() + 60
    while http.get(f"/api/v1/dags/{dag_id}").status_code == 404:
        assert time.monotonic() < deadline, f"{dag_id} never appeared"
        time.sleep(0.1)


def test_trigger_follow_and_read_a_run_over_rest(http: httpx.Client) -> None:
    """POST a run with conf, follow its state changes as server-sent events until it
    succeeds, then read the run, its task instances and a task's log as JSON."""
    _wait_for_dag(http, "example_taskflow")
    listed = http.get("/api/v1/dags").json()
    assert "example_taskflow" in {d["dag_id"] for d in listed["dags"]}
    created = http.post("/api/v1/dags/example_taskflow/dagRuns", json={"conf": {"k": "v"}})
    assert created.status_code in (200, 201), created.text
    run = created.json()["dag_run"]
    assert run["conf"] == {"k": "v"}
    run_id = run["run_id"]

    with http.stream("GET", "/api/v1/events", params={"dag_id": "example_taskflow",
                                                      "run_id": run_id}) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        for line in events.iter_lines():
            if run_state_of(line) in {"DAG_RUN_STATE_SUCCESS", "DAG_RUN_STATE_FAILED"}:
                break
            if http.get(f"/api/v1/dags/example_taskflow/dagRuns/{run_id}").json()[
                    "dag_run"]["state"] == "DAG_RUN_STATE_SUCCESS":
                break  # finished before the stream was subscribed

    got = http.get(f"/api/v1/dags/example_taskflow/dagRuns/{run_id}").json()["dag_run"]
    assert got["state"] == "DAG_RUN_STATE_SUCCESS"
    tis = http.get(f"/api/v1/dags/example_taskflow/dagRuns/{run_id}/taskInstances").json()
    assert {t["key"]["task_id"]: t["state"] for t in tis["task_instances"]} == {
        "extract": "TASK_INSTANCE_STATE_SUCCESS", "total": "TASK_INSTANCE_STATE_SUCCESS"}
    log = http.get(
        f"/api/v1/dags/example_taskflow/dagRuns/{run_id}/taskInstances/total/logs/0").json()
    assert "total is 16" in log["content"] and log["complete"] and log["try_number"] == 1


def run_state_of(sse_line: str) -> str:
    if not sse_line.startswith("data:"):
        return ""
    change = json.loads(sse_line.removeprefix("data:")).get("change", {})
    if change.get("task_instance_key", {}).get("task_id"):
        return ""
    return str(change.get("dag_run_state", ""))


def test_rest_errors_and_authentication(http: httpx.Client, platform: Platform) -> None:
    """An unknown DAG is a 404 with the error model; bad JSON a 400; no token a 401; health
    and the OpenAPI document need none."""
    missing = http.get("/api/v1/dags/no_such_dag")
    assert missing.status_code == 404
    assert "no_such_dag" in missing.json()["error"]["message"]
    bad = http.post("/api/v1/dags/example_bash/dagRuns", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert bad.status_code == 400, bad.text
    anonymous = httpx.get(f"{platform.addresses.http}/api/v1/dags", timeout=10)
    assert anonymous.status_code == 401
    assert httpx.get(f"{platform.addresses.http}/api/v1/health", timeout=10).status_code == 200
    spec = httpx.get(f"{platform.addresses.http}/api/v1/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.") and "/api/v1/dags/{dag_id}/dagRuns" in spec["paths"]


def test_html_page_lists_dags_after_login(platform: Platform) -> None:
    """The page redirects to the sign-in form; a user's password sets an HttpOnly session
    cookie, which opens the web UI's page and the DAG list it reads from the API."""
    base = platform.addresses.http
    admin = {"Authorization": f"Bearer {platform.addresses.token}"}
    created = httpx.post(f"{base}/api/v1/users", headers=admin, timeout=30,
                         json={"username": "page-viewer", "role": "ROLE_VIEWER"})
    assert created.status_code == 200, created.text
    password = created.json()["generated_password"]
    with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as browser:
        assert browser.get("/").url.path == "/login"
        wrong = browser.post("/login", data={"username": "page-viewer", "password": "wrong"})
        assert wrong.status_code == 401
        login = browser.post("/login", data={"username": "page-viewer", "password": password})
        assert login.status_code == 200, login.text
        assert "httponly" in login.history[0].headers["set-cookie"].lower()
        page = browser.get("/")
        assert page.status_code == 200 and "/static/js/app.js" in page.text
        dags = browser.get("/api/v1/dags").json()["dags"]
        assert "example_taskflow" in {dag["dag_id"] for dag in dags}
