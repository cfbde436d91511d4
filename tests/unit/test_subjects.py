"""NATS names are spelled in flow/bus/subjects.py and nowhere else."""

from __future__ import annotations

import pathlib

from flow.bus import subjects

ROOT = pathlib.Path(__file__).resolve().parents[2]
LITERALS = ('"flow.tasks', '"flow.results', "'flow.tasks", "'flow.results", '"FLOW_TASKS"',
            '"FLOW_RESULTS"', '"flow_worker_heartbeats"', '"flow.cancel', "'flow.cancel")


def test_only_subjects_module_spells_nats_names() -> None:
    """No module outside flow/bus/subjects.py (and tests) spells a subject or stream name."""
    offenders = []
    for folder in ("flow", "services", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "flow/bus/subjects.py" or "/v1/" in str(path):
                continue
            text = path.read_text()
            offenders += [f"{path.relative_to(ROOT)}: {lit}" for lit in LITERALS if lit in text]
    assert offenders == []


def test_attempt_key_is_the_documented_shape() -> None:
    """The attempt key is <dag_id>/<run_id>/<task_id>/<map_index>/<try_number>."""
    assert subjects.attempt_key("d", "r", "t", -1, 2) == "d/r/t/-1/2"
    assert subjects.task_subject("etl") == "flow.tasks.etl"
    assert subjects.consumer_name("etl") == "flow-queue-etl"
    assert subjects.heartbeat_key("host.a:1") == "host_a_1"
    assert subjects.cancel_subject("host.a:1") == "flow.cancel.host_a_1"
