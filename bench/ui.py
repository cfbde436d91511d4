"""The web UI at scale: a DAG of 1,000 tasks (20 groups of 50) with 100 runs, timed in
headless Chromium (Debian's chromium, or $FLOW_CHROMIUM). Prints one JSON object of medians
over --repeat rounds, in seconds:

- grid_default: open the DAG's grid (its newest 10 runs) until every visible row is drawn
- grid_100_runs: the same with all 100 runs
- graph: the graph of the newest run (groups start collapsed at this size), until drawn
- live_update: a task instance changes state (marked over the API) until its grid cell shows it

    .venv/bin/python -m bench.ui [--repeat 3] [--runs 100] [--tasks 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
from typing import Any

import httpx

from flow.platform import Platform, WorkerSpec

PASSWORD = "bench-ui-password-1"
# Whether the grid cell of task g00.t000 in run s[1] shows state s[0].
CELL_IS = ("(s) => { const c = document.querySelector("
           "`#grid .grid-cell[data-task=\"g00.t000\"][data-run=\"${s[1]}\"]`);"
           " return c && c.dataset.state === s[0]; }")

BIG_DAG = '''
from datetime import datetime, timezone

from flow.operators.empty import EmptyOperator
from flow.sdk import DAG, TaskGroup

with DAG("bench_ui_big", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
         max_active_runs={runs}, max_active_tasks=100000):
    for g in range({groups}):
        with TaskGroup(f"g{{g:02d}}"):
            previous = None
            for t in range({per_group}):
                current = EmptyOperator(task_id=f"t{{t:03d}}")
                if previous is not None:
                    previous >> current
                previous = current
'''


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def _timed(page: Any, hash_: str, done_js: str) -> float:
    page.evaluate("window.location.hash = '#/workers'")
    page.wait_for_selector("#workers-table")
    started = time.perf_counter()
    page.evaluate(f"window.location.hash = {json.dumps(hash_)}")
    page.wait_for_function(done_js, timeout=120_000, polling="raf")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.ui", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    groups = 20
    per_group = max(1, args.tasks // groups)
    with tempfile.TemporaryDirectory(prefix="flow-bench-ui-") as tmp:
        home = pathlib.Path(tmp)
        dags = home / "dags"
        dags.mkdir()
        (dags / "bench_ui_big.py").write_text(
            BIG_DAG.format(runs=args.runs, groups=groups, per_group=per_group))
        platform = Platform(home, dags_folder=dags, workers=(WorkerSpec(concurrency=4),))
        platform.start()
        try:
            base = platform.addresses.http
            auth = {"Authorization": f"Bearer {platform.addresses.token}"}
            http = httpx.Client(base_url=base + "/api/v1", headers=auth, timeout=60)
            http.post("/users", json={"username": "bench", "role": "ROLE_ADMIN",
                                      "password": PASSWORD}).raise_for_status()
            _wait(lambda: http.get("/dags/bench_ui_big").status_code == 200, 120, "DAG parse")
            for i in range(args.runs):
                http.post("/dags/bench_ui_big/dagRuns",
                          json={"run_id": f"r{i:03d}"}).raise_for_status()

            def finished() -> bool:
                runs = http.get("/dags/bench_ui_big/dagRuns", params={
                    "page_size": 1000, "states": "DAG_RUN_STATE_QUEUED,DAG_RUN_STATE_RUNNING"})
                return not runs.json()["dag_runs"]

            _wait(finished, 1800, "runs to finish")
            newest = f"r{args.runs - 1:03d}"
            results: dict[str, list[float]] = {"grid_default": [], "grid_100_runs": [],
                                               "graph": [], "live_update": []}
            executable = os.environ.get("FLOW_CHROMIUM") or "/usr/bin/chromium"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable,
                                                     args=["--no-sandbox"])
                # bypass_csp: Playwright's wait_for_function evaluates its predicate with eval,
                # which the page's CSP forbids; the app itself runs the same either way.
                page = browser.new_page(base_url=base, viewport={"width": 1400, "height": 900},
                                        bypass_csp=True)
                page.goto("/")
                page.fill("input[name=username]", "bench")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("#dag-table")
                grid_done = ("(n) => { const h = document.querySelector('#grid .grid-header');"
                             " return h && h.textContent.includes(n + ' runs') &&"
                             " document.querySelectorAll('#grid .grid-row').length > 20; }")
                for round_ in range(args.repeat):
                    results["grid_default"].append(_timed(
                        page, "#/dags/bench_ui_big/grid", f"({grid_done})({min(10, args.runs)})"))
                    results["grid_100_runs"].append(_timed(
                        page, f"#/dags/bench_ui_big/grid?runs={args.runs}",
                        f"({grid_done})({args.runs})"))
                    results["graph"].append(_timed(
                        page, "#/dags/bench_ui_big/graph",
                        "document.querySelectorAll('#graph g.node').length > 10"))
                    page.evaluate("window.location.hash = '#/dags/bench_ui_big/grid'")
                    page.wait_for_function(f"({grid_done})({min(10, args.runs)})", timeout=120_000)
                    # The event stream is open (and the scheduler's watch registered: a moment
                    # later) before the change is made; only then can the page see it.
                    page.wait_for_function("document.body.dataset.live === 'bench_ui_big'")
                    time.sleep(0.5)
                    state = "failed" if round_ % 2 == 0 else "success"
                    started = time.perf_counter()
                    http.patch(f"/dags/bench_ui_big/dagRuns/{newest}/taskInstances/g00.t000",
                               json={"new_state": state}).raise_for_status()
                    _wait(lambda target=[state, newest]: page.evaluate(CELL_IS, target),
                          60, f"the grid cell to show {state}")
                    results["live_update"].append(time.perf_counter() - started)
                browser.close()
            http.close()
        finally:
            platform.stop()
    print(json.dumps({
        "tasks": groups * per_group, "runs": args.runs, "repeat": args.repeat,
        "median_seconds": {k: round(statistics.median(v), 3) for k, v in results.items()},
        "all_seconds": {k: [round(x, 3) for x in v] for k, v in results.items()},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
