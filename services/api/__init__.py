"""The API gateway: web UI, REST JSON under /api/v1 with SSE, and the public flow.v1 gRPC API."""
