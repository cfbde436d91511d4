"""Start a standalone stack and measure it: fan-out throughput, chain gaps, concurrent
diamonds and cold start. Prints one JSON object of medians over --repeat rounds.

    bench/run [--repeat 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.dags import BENCH_DAGS
from flow.platform import Platform, WorkerSpec
from tests.e2e.api import Api


def _ts(stamp: Any) -> float:
    return float(stamp.seconds) + stamp.nanos / 1e9


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure_fanout(api: Api) -> float:
    started = time.perf_counter()
    run = api.trigger("bench_fanout")
    api.wait_for_run("bench_fanout", run.run_id, timeout=600)
    wall = time.perf_counter() - started
    return 200 / wall


def measure_chain(api: Api) -> list[float]:
    run = api.trigger("bench_chain")
    api.wait_for_run("bench_chain", run.run_id, timeout=600)
    tis = api.task_instances("bench_chain", run.run_id)
    gaps = []
    for i in range(1, 20):
        before, after = tis[f"c{i - 1:02d}"], tis[f"c{i:02d}"]
        gaps.append((_ts(after.start_date) - _ts(before.end_date)) * 1000)
    return gaps


def measure_diamonds(api: Api, count: int = 50) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda _: api.trigger("bench_diamond"), range(count)))
        list(pool.map(lambda r: api.wait_for_run("bench_diamond", r.run_id, timeout=600), runs))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {k: [] for k in (
        "cold_start_s", "fanout_tasks_per_s", "chain_gap_p50_ms", "chain_gap_p95_ms",
        "diamonds_wall_s")}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="flow-bench-") as tmp:
            home = pathlib.Path(tmp)
            dags = home / "dags"
            dags.mkdir()
            (dags / "bench_dags.py").write_text(BENCH_DAGS)
            platform = Platform(home, dags_folder=dags,
                                workers=[WorkerSpec(concurrency=args.concurrency)])
            started = time.perf_counter()
            platform.start()
            api = Api(platform)
            try:
                api.wait_for_dag("bench_diamond")
                results["cold_start_s"].append(time.perf_counter() - started)
                results["fanout_tasks_per_s"].append(measure_fanout(api))
                gaps = measure_chain(api)
                results["chain_gap_p50_ms"].append(statistics.median(gaps))
                results["chain_gap_p95_ms"].append(_percentile(gaps, 0.95))
                results["diamonds_wall_s"].append(measure_diamonds(api))
            finally:
                api.close()
                platform.stop()
    report: dict[str, Any] = {k: round(statistics.median(v), 3) for k, v in results.items()}
    airflow = {"fanout_tasks_per_s": 12.0, "chain_gap_p50_ms": 250.0, "diamonds_wall_s": 20.0,
               "cold_start_s": 7.5}
    report["vs_airflow_3_3"] = {
        "fanout_speedup": round(report["fanout_tasks_per_s"] / airflow["fanout_tasks_per_s"], 1),
        "chain_gap_ratio": round(airflow["chain_gap_p50_ms"] / max(report["chain_gap_p50_ms"],
                                                                   0.001), 1),
        "diamonds_speedup": round(airflow["diamonds_wall_s"] / report["diamonds_wall_s"], 1),
        "cold_start_speedup": round(airflow["cold_start_s"] / report["cold_start_s"], 1),
    }
    report["rounds"] = args.repeat
    report["samples"] = {k: [round(x, 3) for x in v] for k, v in results.items()}
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
