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


def poke_msg_id(attempt_key: str, when: str) -> str:
    """The Nats-Msg-Id of a message about one poke of a rescheduled sensor's try (the try's
    pokes share its attempt key): `when` tells the pokes apart."""
    return f"{attempt_key}/poke/{when}"


def parse_attempt_key(key: str) -> tuple[str, str, str, int, int] | None:
    """(dag_id, run_id, task_id, map_index, try_number) of an attempt key; None if it is not
    one. dag_id and task_id hold no '/' (the SDK's id rules), so a run_id may."""
    dag_id, sep, rest = key.partition("/")
    parts = rest.rsplit("/", 3)  # run_id, task_id, map_index, try_number
    if not sep or len(parts) != 4:
        return None
    run_id, task_id, map_text, try_text = parts
    try:
        map_index, try_number = int(map_text), int(try_text)
    except ValueError:
        return None
    if not (dag_id and run_id and task_id):
        return None
    return dag_id, run_id, task_id, map_index, try_number


def queue_of_subject(subject: str) -> str | None:
    """The queue a task subject belongs to; None for other subjects."""
    if subject.startswith(TASKS_SUBJECT_PREFIX) and len(subject) > len(TASKS_SUBJECT_PREFIX):
        return subject[len(TASKS_SUBJECT_PREFIX):]
    return None


def heartbeat_key(worker_id: str) -> str:
    """KV key of a worker's heartbeat (KV keys allow [-/_=.a-zA-Z0-9])."""
    return "".join(c if c.isalnum() or c in "-_=" else "_" for c in worker_id)


def cancel_subject(worker_id: str) -> str:
    """Subject a worker listens on for attempts to stop; the body is the attempt key."""
    return CANCEL_SUBJECT_PREFIX + heartbeat_key(worker_id)
