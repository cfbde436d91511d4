"""The only module that spells stream, subject, consumer, KV and header names.

A unit test greps the repository for these literals outside this module.
"""

from __future__ import annotations

TASKS_STREAM = "FLOW_TASKS"
RESULTS_STREAM = "FLOW_RESULTS"
TASKS_SUBJECT_PREFIX = "flow.tasks."
RESULTS_SUBJECT_PREFIX = "flow.results."
TASKS_SUBJECTS = TASKS_SUBJECT_PREFIX + "*"
RESULTS_SUBJECTS = RESULTS_SUBJECT_PREFIX + ">"
RESULTS_CONSUMER = "flow-scheduler-results"
HEARTBEAT_BUCKET = "flow_worker_heartbeats"
# Core NATS (no stream): the scheduler asks a worker to stop an attempt it runs.
CANCEL_SUBJECT_PREFIX = "flow.cancel."
MSG_ID_HEADER = "Nats-Msg-Id"


def task_subject(queue: str) -> str:
    """Subject a queue's dispatches are published on."""
    return TASKS_SUBJECT_PREFIX + queue


def result_subject(queue: str) -> str:
    """Subject the results of a queue's attempts are published on."""
    return RESULTS_SUBJECT_PREFIX + queue


def consumer_name(queue: str) -> str:
    """The durable pull consumer shared by every worker of a queue."""
    return f"flow-queue-{queue}"


def attempt_key(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    """The attempt key, used as Nats-Msg-Id so that a re-publish is deduplicated."""
    return f"{dag_id}/{run_id}/{task_id}/{map_index}/{try_number}"


def heartbeat_key(worker_id: str) -> str:
    """KV key of a worker's heartbeat (KV keys allow [-/_=.a-zA-Z0-9])."""
    return "".join(c if c.isalnum() or c in "-_=" else "_" for c in worker_id)


def cancel_subject(worker_id: str) -> str:
    """Subject a worker listens on for attempts to stop; the body is the attempt key."""
    return CANCEL_SUBJECT_PREFIX + heartbeat_key(worker_id)
