"""REST routes of WorkerService: the workers and the task queues, live."""

from __future__ import annotations

from flow.v1 import worker_service_pb2 as pb
from services.api.routes.common import Operation

OPERATIONS = (
    Operation(
        "GET", "/workers", "listWorkers",
        "Lists the workers (online, and offline ones seen lately) with their queues, slots "
        "and running attempts.",
        pb.ListWorkersRequest, pb.ListWorkersResponse,
        call=lambda core, req: core.list_workers(req), query=("queue", "page_size", "page_token"),
        tags=("Worker",)),
    Operation(
        "GET", "/queues", "listQueues",
        "Lists the task queues with their depth, tasks in flight and listening workers.",
        pb.ListQueuesRequest, pb.ListQueuesResponse,
        call=lambda core, req: core.list_queues(req), query=("page_size", "page_token"),
        tags=("Worker",)),
)
