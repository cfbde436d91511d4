"""The web UI in real headless Chromium against the whole platform: sign-in, the DAG list,
trigger from the params form, live grid and graph, live log, clear, mark, pause, roles,
hostile text, and a screenshot of each main view (under $FLOW_SCREENSHOTS or a temp dir)."""

from __future__ import annotations

import pathlib
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from flow.platform import Platform
from flow.v1 import common_pb2
from tests.e2e.api import Api, eventually
from tests.e2e.browser import browser, create_user, screenshots, sign_in  # noqa: F401
from tests.fixtures.platform import PlatformFactory

pytestmark = pytest.mark.e2e

UI_DAGS = pathlib.Path(__file__).parent / "ui_dags"
WAIT_MS = 60_000  # a guard against hangs, never a speed assertion


@pytest.fixture(scope="module")
def ui_platform(module_platform_factory: PlatformFactory) -> Platform:
    platform = module_platform_factory(UI_DAGS)
    addresses = platform.addresses
    create_user(addresses.http, addresses.token, "ui-admin", "ROLE_ADMIN")
    create_user(addresses.http, addresses.token, "ui-viewer", "ROLE_VIEWER")
    api = Api(platform)
    try:
        for dag_id in ("ui_params", "ui_evil"):
            api.wait_for_dag(dag_id)
        eventually(api.import_errors)
    finally:
        api.close()
    return platform


@pytest.fixture
def api(ui_platform: Platform) -> Iterator[Api]:
    client = Api(ui_platform)
    yield client
    client.close()


@pytest.fixture
def admin_page(browser: Any, ui_platform: Platform) -> Iterator[Any]:  # noqa: F811
    page = sign_in(browser, ui_platform.addresses.http, "ui-admin")
    yield page
    assert page.flow_errors == [], page.flow_errors
    page.context.close()


def _expect() -> Any:
    from playwright.sync_api import expect
    return expect


def _shot(page: Any, folder: pathlib.Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _run_href(dag_id: str, run_id: str, task_id: str) -> str:
    return f"#/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"


def _pwned(page: Any) -> Any:
    return page.evaluate("window.__pwned")


def test_sign_in_sign_out_and_expired_session(browser: Any, ui_platform: Platform  # noqa: F811
                                              ) -> None:
    """A wrong password is refused on the form; a signed-in user sees the DAG list and can
    sign out; a session that ends under an open page sends it to the sign-in page, saying so."""
    base = ui_platform.addresses.http
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "ui-admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    _expect()(page.locator("#login-message")).not_to_contain_text("Sign in with")
    context.close()

    page = sign_in(browser, base, "ui-admin")
    _expect()(page.locator("#whoami")).to_have_text("ui-admin (admin)")
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/")
    assert page.url.endswith("/login")
    page.context.close()

    page = sign_in(browser, base, "ui-admin")
    page.context.clear_cookies()  # the session ends (as when it expires or is revoked)
    page.evaluate("window.location.hash = '#/admin/variables'")
    page.wait_for_url(re.compile(r"/login\?expired=1$"))
    _expect()(page.locator("#login-message")).to_contain_text("session has ended")
    page.context.close()


def test_trigger_from_params_form_and_watch_grid_and_graph_live(
        browser: Any, ui_platform: Platform, admin_page: Any, api: Api,  # noqa: F811
        screenshots: pathlib.Path) -> None:  # noqa: F811
    """The trigger form is built from the DAG's params: the browser checks bounds, the
    scheduler's refusal is shown with its reason; a valid submit starts a run whose tasks
    turn green in an open graph and in the grid, without a reload."""
    expect = _expect()
    page = admin_page
    _shot(page, screenshots, "01-dag-list")
    graph = page.context.new_page()
    graph.goto("/#/dags/ui_params/graph")
    graph.wait_for_selector("#graph g.node")
    graph.evaluate("window.__noReload = 1")

    page.goto("/#/dags/ui_params/trigger")
    page.wait_for_selector("#trigger-form")
    _shot(page, screenshots, "02-trigger-form")
    page.fill("#param-lines", "0")
    page.click("#trigger-submit")
    expect(page.locator("#param-lines-error")).to_contain_text("At least 1")
    page.fill("#param-lines", "4")
    page.fill("#param-code", "NOT lower case")  # only the scheduler checks the pattern
    page.click("#trigger-submit")
    expect(page.locator("#trigger-result .error")).to_contain_text("code")
    _shot(page, screenshots, "03-trigger-refused")
    page.fill("#param-code", "fine")
    page.evaluate("window.__noReload = 1")
    page.click("#trigger-submit")
    page.wait_for_url(re.compile(r"#/dags/ui_params/grid\?run="))
    run_id = unquote(page.url.split("run=")[1])
    assert api.get_run("ui_params", run_id).conf["code"] == "fine"

    for task_id in ("start", "grp.one", "grp.two", "square", "slow"):
        cell = page.locator(f'#grid .grid-cell[data-task="{task_id}"][data-run="{run_id}"]')
        expect(cell).to_have_attribute("data-state", "success", timeout=WAIT_MS)
        node = graph.locator(f'#graph g.node[data-task="{task_id}"]')
        expect(node).to_have_attribute("data-state", "success", timeout=WAIT_MS)
    # the mapped task is one cell with its instance count; the group summarises its tasks
    expect(page.locator(f'#grid .grid-cell[data-task="square"][data-run="{run_id}"]')
           ).to_have_text("3")
    expect(page.locator(f'#grid .grid-cell[data-task="grp"][data-run="{run_id}"]')
           ).to_have_attribute("data-state", "success")
    expect(graph.locator('#graph g.node[data-task="square"] text')).to_have_text("square [3]")
    assert page.evaluate("window.__noReload") == 1 and graph.evaluate("window.__noReload") == 1
    _shot(page, screenshots, "04-grid")
    _shot(graph, screenshots, "05-graph")

    page.click('#grid .group-toggle[data-group="grp"]')  # collapse the group
    expect(page.locator('#grid .grid-row[data-row="grp.one"]')).to_have_count(0)
    graph.click('.group-bar button[data-group="grp"]')
    expect(graph.locator('#graph g.node[data-task="grp"]')).to_have_count(1)
    expect(graph.locator('#graph g.node[data-task="grp.one"]')).to_have_count(0)
    boxes = [graph.locator("#graph g.node").nth(i).bounding_box()
             for i in range(graph.locator("#graph g.node").count())]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]), \
                "graph nodes overlap"
    assert graph.locator("#graph path.edge").count() >= 3
    graph.close()

    for tab in ("gantt", "runs", "source", "details"):
        page.goto(f"/#/dags/ui_params/{tab}")
        page.wait_for_selector("#tab-" + tab + ".active")
        if tab == "gantt":
            expect(page.locator("#gantt .gantt-bar").first).to_be_visible()
        if tab == "source":
            expect(page.locator("#dag-source")).to_contain_text('dag_id="ui_params"')
        if tab == "runs":
            expect(page.locator("#run-table")).to_contain_text('"code": "fine"')
        _shot(page, screenshots, f"06-{tab}")


def test_live_changes_outlast_a_slow_read_of_the_run(
        ui_platform: Platform, admin_page: Any, api: Api) -> None:
    """An open graph reads a new run's task instances while its tasks change: the changes
    that arrive during the read are newer than its answer, which must not hide them (the
    answer is held back here, as a slow network would)."""
    expect = _expect()
    graph = admin_page
    graph.goto("/#/dags/ui_params/graph")
    graph.wait_for_selector("#graph g.node")
    graph.evaluate("window.__noReload = 1")

    def answer_late(route: Any) -> None:
        response = route.fetch()  # the states as they are now...
        time.sleep(1.5)  # ...arrive after the changes that follow them
        route.fulfill(response=response)

    graph.route("**/taskInstances*", answer_late)
    try:
        run = api.trigger("ui_params", {"lines": 1})
        for task_id in ("start", "grp.one", "grp.two", "square", "slow"):
            node = graph.locator(f'#graph g.node[data-task="{task_id}"]')
            expect(node).to_have_attribute("data-state", "success", timeout=WAIT_MS)
    finally:
        # a read still held back when the test ends is answered into a closed page: its
        # error would otherwise surface in the next test's first browser call
        graph.unroute_all(behavior="ignoreErrors")
    assert api.wait_for_run("ui_params", run.run_id).state == common_pb2.DAG_RUN_STATE_SUCCESS


def test_log_follows_a_running_task_and_downloads(admin_page: Any, api: Api,
                                                  screenshots: pathlib.Path  # noqa: F811
                                                  ) -> None:
    """The log of a running try grows in the open page (server-sent events) until the try
    ends; the whole log downloads as a file."""
    expect = _expect()
    run = api.trigger("ui_params", conf={"lines": 16})
    eventually(lambda: api.states("ui_params", run.run_id).get("slow") == "running",
               timeout=60)
    page = admin_page
    page.goto("/" + _run_href("ui_params", run.run_id, "slow"))
    page.wait_for_selector("#log")
    page.evaluate("window.__noReload = 1")
    expect(page.locator("#log-status")).to_have_text("following…", timeout=WAIT_MS)
    expect(page.locator("#log")).to_contain_text("line 3", timeout=WAIT_MS)
    assert "line 16" not in page.locator("#log").inner_text()  # still running
    expect(page.locator("#log")).to_contain_text("line 16", timeout=WAIT_MS)
    expect(page.locator("#log-status")).to_have_text("complete", timeout=WAIT_MS)
    assert page.evaluate("window.__noReload") == 1
    expect(page.locator("#ti-rendered")).to_contain_text("seq 1 16", timeout=WAIT_MS)
    _shot(page, screenshots, "07-task-instance")
    with page.expect_download() as download_info:
        page.click("#log-download")
    text = pathlib.Path(download_info.value.path()).read_text()
    assert "line 1\n" in text and "line 16" in text


def test_clear_reruns_a_task_and_mark_sets_its_state(admin_page: Any, api: Api) -> None:
    """Clear on a finished task runs it again (its next try shows, live); mark failed and
    mark success change its state."""
    expect = _expect()
    run_id, _states = api.run_to_end("ui_params", conf={"lines": 1})
    page = admin_page
    page.goto("/" + _run_href("ui_params", run_id, "grp.two"))
    expect(page.locator("#ti-details")).to_contain_text("1 of")
    page.click("#clear")
    expect(page.locator("#ti-details")).to_contain_text("2 of", timeout=WAIT_MS)
    expect(page.locator("#ti-title .state")).to_have_text("success", timeout=WAIT_MS)
    expect(page.locator('#ti-tries tbody tr')).to_have_count(2, timeout=WAIT_MS)
    assert api.task_instances("ui_params", run_id)["grp.two"].key.try_number == 2
    page.click("#mark-failed")
    expect(page.locator("#ti-title .state")).to_have_text("failed", timeout=WAIT_MS)
    page.click("#mark-success")
    expect(page.locator("#ti-title .state")).to_have_text("success", timeout=WAIT_MS)
    assert api.states("ui_params", run_id)["grp.two"] == "success"


def test_pause_toggle_pauses_and_unpauses(admin_page: Any, api: Api) -> None:
    """The DAG list's toggle pauses a DAG (PATCH is_paused) and unpauses it."""
    expect = _expect()
    page = admin_page
    toggle = page.locator('tr[data-dag-id="ui_evil"] input.pause-toggle')
    expect(toggle).to_be_checked()
    toggle.click()
    eventually(lambda: api.dags.GetDag(_get_dag("ui_evil"), **api.call_options).dag.is_paused)
    page.reload()
    expect(page.locator('tr[data-dag-id="ui_evil"] input.pause-toggle')).not_to_be_checked()
    page.locator('tr[data-dag-id="ui_evil"] input.pause-toggle').click()
    eventually(lambda: not api.dags.GetDag(_get_dag("ui_evil"),
                                           **api.call_options).dag.is_paused)


def _get_dag(dag_id: str) -> Any:
    from flow.v1 import dag_service_pb2
    return dag_service_pb2.GetDagRequest(dag_id=dag_id)


def test_viewer_sees_no_controls_and_cannot_trigger(browser: Any, ui_platform: Platform,  # noqa: F811
                                                    api: Api) -> None:
    """A viewer gets no trigger, clear, mark or pause controls; a trigger it sends anyway
    is refused by the gateway (403, naming the role needed)."""
    expect = _expect()
    run_id, _ = api.run_to_end("ui_params", conf={"lines": 1})
    page = sign_in(browser, ui_platform.addresses.http, "ui-viewer")
    expect(page.locator("#whoami")).to_have_text("ui-viewer (viewer)")
    expect(page.locator("#dag-table a.button")).to_have_count(0)
    expect(page.locator("#dag-table input.pause-toggle").first).to_be_disabled()
    page.goto("/#/dags/ui_params/grid")
    page.wait_for_selector("#grid")
    expect(page.locator("#tab-trigger")).to_have_count(0)
    page.goto("/" + _run_href("ui_params", run_id, "start"))
    page.wait_for_selector("#ti-details")
    expect(page.locator("#ti-actions")).to_have_count(0)
    status = page.evaluate("""async () => {
        const csrf = document.cookie.split('; ').find((c) => c.startsWith('flow_csrf='))
            .split('=')[1];
        const r = await fetch('/api/v1/dags/ui_params/dagRuns', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: '{}'});
        return [r.status, (await r.json()).error.message];
    }""")
    assert status[0] == 403 and "user role" in status[1]
    assert page.flow_errors == []
    page.context.close()


def test_hostile_text_renders_as_text(admin_page: Any, api: Api,
                                      screenshots: pathlib.Path) -> None:  # noqa: F811
    """Script and quote-breaking payloads in a DAG's description, docs, tags, params, log
    lines and an import error show as text on every view, and none of them runs."""
    expect = _expect()
    page = admin_page
    expect(page.locator(".import-errors")).to_contain_text("ui_broken.py")
    page.locator(".import-errors summary").first.click()
    expect(page.locator(".import-errors")).to_contain_text("<script>window.__pwned=3</script>")
    expect(page.locator('tr[data-dag-id="ui_evil"]')).to_contain_text(
        "<script>window.__pwned=1</script>")
    _shot(page, screenshots, "08-hostile-list")
    for tab in ("details", "trigger", "graph", "source"):
        page.goto(f"/#/dags/ui_evil/{tab}")
        page.wait_for_selector(f"#tab-{tab}.active")
        if tab == "details":
            expect(page.locator("#dag-doc")).to_have_text(
                "<script>window.__pwned=1</script>\"'><img src=x onerror=window.__pwned=2>")
        if tab == "trigger":
            expect(page.locator("#param-evil")).to_have_value(
                "<script>window.__pwned=1</script>\"'><img src=x onerror=window.__pwned=2>")
    run_id, _ = api.run_to_end("ui_evil")
    page.goto("/" + _run_href("ui_evil", run_id, "shout"))
    expect(page.locator("#log")).to_contain_text("<script>window.__pwned=1</script>",
                                                 timeout=WAIT_MS)
    assert page.locator("#main script, #main img").count() == 0
    assert _pwned(page) is None
    _shot(page, screenshots, "09-hostile-log")


def test_admin_pages_workers_and_no_password_in_the_browser(
        admin_page: Any, api: Api, ui_platform: Platform,
        screenshots: pathlib.Path) -> None:  # noqa: F811
    """Variables, connections, pools, users, tokens, the audit log and the workers page
    render; a connection's password never reaches the browser."""
    expect = _expect()
    secret = "pw-never-in-browser-8e1"
    headers = {"Authorization": f"Bearer {ui_platform.addresses.token}"}
    response = httpx.post(f"{ui_platform.addresses.http}/api/v1/connections", headers=headers,
                          json={"conn_id": "ui_db", "conn_type": "postgres", "host": "db",
                                "password": secret}, timeout=30)
    assert response.status_code == 200, response.text
    page = admin_page
    seen: list[str] = []
    page.on("response", lambda r: seen.append(r.text()) if "/api/v1/" in r.url
            and r.request.method == "GET" and "events" not in r.url else None)
    for name in ("variables", "connections", "pools", "users", "tokens", "audit"):
        page.goto(f"/#/admin/{name}")
        page.wait_for_selector(f"#admin-{name} table")
        _shot(page, screenshots, f"10-admin-{name}")
    page.goto("/#/admin/connections")
    expect(page.locator("#connections-table")).to_contain_text("ui_db")
    assert secret not in page.content() and all(secret not in body for body in seen)
    page.goto("/#/admin/pools")
    expect(page.locator("#pools-table")).to_contain_text("default_pool")
    page.goto("/#/admin/audit")
    expect(page.locator("#audit-table")).to_contain_text("CreateConnection")
    page.goto("/#/workers")
    expect(page.locator("#workers-table")).to_contain_text("online")
    expect(page.locator("#queues-table")).to_contain_text("default")
    _shot(page, screenshots, "11-workers")


def test_pages_and_streams_need_a_session_and_mutations_a_csrf_token(
        ui_platform: Platform, admin_page: Any) -> None:
    """Without a session the app shell redirects to sign-in and the event and log streams
    answer 401; with a session but without the CSRF token a trigger is refused (403); the
    pages carry a Content-Security-Policy that allows only this origin's scripts."""
    base = ui_platform.addresses.http
    with httpx.Client(base_url=base, timeout=30) as http:
        shell = http.get("/")
        assert shell.status_code == 303 and shell.headers["location"] == "/login"
        for stream in ("/api/v1/events", "/api/v1/events?dag_id=ui_params",
                       "/api/v1/dags/ui_params/dagRuns/r/taskInstances/slow/logs/1/follow"):
            assert http.get(stream).status_code == 401, stream
        login = http.get("/login")
        assert "script-src 'self'" in login.headers["content-security-policy"]
    cookies = {c["name"]: c["value"] for c in admin_page.context.cookies()}
    with httpx.Client(base_url=base, timeout=30, cookies=cookies) as http:
        shell = http.get("/")
        policy = shell.headers["content-security-policy"]
        assert shell.status_code == 200 and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        refused = http.post("/api/v1/dags/ui_params/dagRuns", json={})
        assert refused.status_code == 403
        assert refused.json()["error"]["reason"] == "CSRF_FAILED"
        ok = http.post("/api/v1/dags/ui_params/dagRuns", json={"conf": {"lines": 1}},
                       headers={"X-CSRF-Token": cookies["flow_csrf"]})
        assert ok.status_code == 200, ok.text


def test_layered_layout_gives_each_node_its_own_slot(admin_page: Any) -> None:
    """The graph's layout (layout.js, run in the browser) on a random DAG of 400 nodes: every
    edge points to a later layer and no two nodes share a (layer, order) slot, so drawn
    nodes never overlap."""
    result = admin_page.evaluate("""async () => {
        const {layeredLayout} = await import('/static/js/layout.js');
        let seed = 7;
        const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
        const nodes = Array.from({length: 400}, (_, i) => `n${i}`);
        const edges = [];
        for (let i = 1; i < nodes.length; i++) {
            for (let k = 0; k < 2; k++) edges.push([nodes[Math.floor(rand() * i)], nodes[i]]);
        }
        const pos = layeredLayout(nodes, edges);
        const slots = new Set([...pos.values()].map((p) => `${p.layer}/${p.order}`));
        const forward = edges.every(([a, b]) => pos.get(a).layer < pos.get(b).layer);
        return {slots: slots.size, nodes: pos.size, forward};
    }""")
    assert result == {"slots": 400, "nodes": 400, "forward": True}


def test_dag_source_and_rendered_fields_over_rest(ui_platform: Platform, api: Api) -> None:
    """GET /dags/{dag_id}/source answers the DAG file's text (404 for an unknown DAG), and
    .../renderedFields a finished task's rendered template fields; GetDag answers params."""
    run_id, _ = api.run_to_end("ui_params", conf={"lines": 2})
    headers = {"Authorization": f"Bearer {ui_platform.addresses.token}"}
    with httpx.Client(base_url=ui_platform.addresses.http + "/api/v1", headers=headers,
                      timeout=30) as http:
        source = http.get("/dags/ui_params/source").json()
        assert source["fileloc"].endswith("ui_params.py")
        assert 'dag_id="ui_params"' in source["content"]
        missing = http.get("/dags/no_such_dag/source")
        assert missing.status_code == 404
        rendered = http.get(f"/dags/ui_params/dagRuns/{quote(run_id, safe='')}"
                            "/taskInstances/slow/renderedFields").json()
        assert rendered["found"] and "seq 1 2" in rendered["rendered_fields"]["bash_command"]
        params = http.get("/dags/ui_params").json()["dag"]["params"]
        assert params["lines"]["schema"]["maximum"] == 40 and params["lines"]["default"] == 3
        assert [t["is_mapped"] for t in http.get("/dags/ui_params").json()["dag"]["tasks"]
                if t["task_id"] == "square"] == [True]
