"""The benchmark DAGs, written into a fresh DAG folder by the harness."""

BENCH_DAGS = '''
from datetime import datetime, timezone

from flow.sdk import DAG, task

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


@task
def noop() -> None:
    return None


with DAG("bench_fanout", schedule=None, start_date=START, max_active_tasks=1000):
    for i in range(200):
        noop.override(task_id=f"t{i:03d}")()

with DAG("bench_chain", schedule=None, start_date=START):
    previous = None
    for i in range(20):
        current = noop.override(task_id=f"c{i:02d}")()
        if previous is not None:
            previous >> current
        previous = current

with DAG("bench_diamond", schedule=None, start_date=START, max_active_runs=100):
    a = noop.override(task_id="a")()
    e = noop.override(task_id="e")()
    a >> [noop.override(task_id=x)() for x in "bcd"] >> e
'''
