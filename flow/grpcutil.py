"""gRPC plumbing shared by every service: serving with health and reflection, bearer-token
authentication, and the one translation of FlowError to a gRPC status (and back).

Unknown exceptions never reach the client as text: they are logged with a reference id and
answered INTERNAL with that id only.
"""

from __future__ import annotations

import contextlib
import hmac
import pathlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from flow.config import TlsConfig
from flow.errors import FlowError, InvalidArgumentError, error_for_code

log = structlog.get_logger(__name__)
Ctx = grpc.aio.ServicerContext[Any, Any]

ERROR_DOMAIN = "flow.v1"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
]
# Methods reachable without a token (health checks and reflection).
_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def status_for(error: FlowError) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    """The gRPC code, message and trailing metadata (google.rpc.Status with ErrorInfo)."""
    code = _GRPC_CODES[int(error.code)]
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN,
                                       metadata=error.metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=int(error.code), message=error.message, details=[detail])
    return code, error.message, ((STATUS_DETAILS_KEY, status.SerializeToString()),)


_GRPC_CODES = {c.value[0]: c for c in grpc.StatusCode}


def error_from_rpc(exc: grpc.aio.AioRpcError | grpc.RpcError) -> FlowError:
    """Rebuild the FlowError a peer raised, from its status code and ErrorInfo."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    message = (exc.details() if hasattr(exc, "details") else None) or str(code)
    reason, metadata = "", {}
    trailing: Any = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reason, metadata = info.reason, dict(info.metadata)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and not reason:
        reason = "SERVICE_UNAVAILABLE"
    return error_for_code(code.value[0], message, reason, **metadata)


async def _abort_for(exc: BaseException, context: Ctx) -> None:
    if isinstance(exc, FlowError):
        code, message, trailing = status_for(exc)
        context.set_trailing_metadata(trailing)
        await context.abort(code, message)
    ref = uuid.uuid4().hex[:12]
    log.error("rpc_failed", error_ref=ref, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (ref {ref})")


class CallGuard(Protocol):
    """Per-call authentication, authorization and audit (the gateway's Gatekeeper)."""

    async def enter(self, method: str, metadata: Iterable[tuple[str, Any]] | None,
                    request: Any) -> Any:
        """Admit the call (raise FlowError to refuse it); the result is passed to exit().
        `request` is None for client streams."""

    async def exit(self, state: Any, method: str, request: Any,
                   error: BaseException | None) -> None:
        """After a unary call: what it did and how it ended."""


def _wrap_unary(behavior: Callable[..., Awaitable[Any]], guard: CallGuard | None = None,
                method: str = "", streaming: bool = False) -> Callable[..., Awaitable[Any]]:
    async def wrapper(request: Any, context: Ctx) -> Any:
        state = None
        try:
            if guard is not None:
                state = await guard.enter(method, context.invocation_metadata(),
                                          None if streaming else request)
            result = await behavior(request, context)
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception as exc:  # translated once, here
            if guard is not None and state is not None:
                await guard.exit(state, method, None if streaming else request, exc)
            await _abort_for(exc, context)
            raise
        if guard is not None:
            await guard.exit(state, method, None if streaming else request, None)
        return result

    return wrapper


def _wrap_stream(behavior: Callable[..., Any], guard: CallGuard | None = None,
                 method: str = "", streaming: bool = False) -> Callable[..., Any]:
    async def wrapper(request: Any, context: Ctx) -> AsyncIterator[Any]:
        try:
            if guard is not None:
                await guard.enter(method, context.invocation_metadata(),
                                  None if streaming else request)
            async for item in behavior(request, context):
                yield item
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception as exc:
            await _abort_for(exc, context)
            raise

    return wrapper


class _BoundaryInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks the bearer token (or runs the guard) and maps exceptions to statuses, for
    every method."""

    def __init__(self, tokens: Sequence[str], guard: CallGuard | None = None) -> None:
        self._tokens = [t.encode() for t in tokens if t]
        self._guard = guard

    def _authorized(self, metadata: Iterable[tuple[str, Any]] | None) -> bool:
        if not self._tokens:
            return True
        presented = b""
        for key, value in metadata or ():
            if key == "authorization":
                text = value.decode() if isinstance(value, bytes) else str(value)
                if text.lower().startswith("bearer "):
                    presented = text[7:].strip().encode()
        # compare against every token in constant time, without an early exit
        ok = False
        for token in self._tokens:
            ok |= hmac.compare_digest(presented, token)
        return ok

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: Any
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        method: str = details.method
        public = method.startswith(_PUBLIC_PREFIXES)
        if not public and not self._authorized(details.invocation_metadata):
            return _deny(handler)
        guard = None if public else self._guard
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, guard, method), handler.request_deserializer,
                handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, guard, method),
                handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap_unary(handler.stream_unary, guard, method, streaming=True),
                handler.request_deserializer, handler.response_serializer)
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _wrap_stream(handler.stream_stream, guard, method, streaming=True),
                handler.request_deserializer, handler.response_serializer)
        return handler


def _deny(handler: Any) -> Any:
    from flow.errors import UnauthenticatedError

    error = UnauthenticatedError(
        "Missing or invalid bearer token: send 'authorization: Bearer <token>' metadata.")

    async def deny_unary(_request: Any, context: Ctx) -> Any:
        await _abort_for(error, context)

    async def deny_stream(_request: Any, context: Ctx) -> AsyncIterator[Any]:
        await _abort_for(error, context)
        yield None  # pragma: no cover - abort raises

    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            deny_stream, handler.request_deserializer, handler.response_serializer)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            deny_unary, handler.request_deserializer, handler.response_serializer)
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            deny_stream, handler.request_deserializer, handler.response_serializer)
    return grpc.unary_unary_rpc_method_handler(
        deny_unary, handler.request_deserializer, handler.response_serializer)


@dataclass
class Registration:
    """A servicer and the generated function that adds it to a server."""

    add: Callable[[Any, grpc.aio.Server], None]
    servicer: Any
    service_name: str


@dataclass
class Served:
    """A running server and the port it bound."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer


@contextlib.asynccontextmanager
async def serve(
    bind: str, registrations: Sequence[Registration], *, tokens: Sequence[str] = (),
    guard: CallGuard | None = None, grace: float = 2.0, tls: TlsConfig | None = None,
) -> AsyncIterator[Served]:
    """Serve on `bind` ("host:0" picks a port) with health, reflection and the boundary:
    `tokens` (any of them admits a call), or a `guard` that admits each call itself. With
    `tls` enabled the port speaks TLS only.

    On exit, health goes NOT_SERVING and the server stops with a grace period.
    """
    server = grpc.aio.server(interceptors=[_BoundaryInterceptor(tokens, guard)],
                             options=CHANNEL_OPTIONS)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [r.service_name for r in registrations]
    for registration in registrations:
        registration.add(registration.servicer, server)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME], server)
    if tls is not None and tls.enabled:
        port = server.add_secure_port(bind, grpc.ssl_server_credentials([(
            _read(tls.key_file, "FLOW_TLS__KEY_FILE"),
            _read(tls.cert_file, "FLOW_TLS__CERT_FILE"))]))
    else:
        port = server.add_insecure_port(bind)
    if port == 0:
        raise OSError(f"could not bind gRPC server to {bind}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    try:
        yield Served(server, port, health_servicer)
    finally:
        await health_servicer.enter_graceful_shutdown()
        await server.stop(grace)


def host_of(bind: str) -> str:
    return bind.rsplit(":", 1)[0] or "127.0.0.1"


class _AuthMetadata:
    """Adds `authorization: Bearer <token>` to a call's metadata."""

    def __init__(self, token: str) -> None:
        self._pair = ("authorization", f"Bearer {token}")

    def _details(self, details: Any) -> Any:
        metadata = list(details.metadata or [])
        metadata.append(self._pair)
        return details._replace(metadata=metadata)


# grpc.aio files each interceptor under the first kind it is an instance of, so every call
# kind needs an interceptor object of its own.
class _AuthUnaryUnary(_AuthMetadata, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _AuthUnaryStream(_AuthMetadata, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _AuthStreamUnary(_AuthMetadata, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_unary(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(details), request_iterator)


class _AuthStreamStream(_AuthMetadata, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_stream(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(details), request_iterator)


def open_channel(address: str, token: str = "", tls: TlsConfig | None = None,
                 ) -> grpc.aio.Channel:
    """An aio channel to `address` that sends `token` as a bearer token on every call; over
    TLS (trusting `tls.ca_file`, else the system's roots) when `tls` is enabled."""
    interceptors: list[Any] = [
        kind(token) for kind in (_AuthUnaryUnary, _AuthUnaryStream, _AuthStreamUnary,
                                 _AuthStreamStream)
    ] if token else []
    if tls is not None and (tls.enabled or tls.ca_file):
        return grpc.aio.secure_channel(address, channel_credentials(tls),
                                       options=CHANNEL_OPTIONS, interceptors=interceptors)
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS, interceptors=interceptors)


def channel_credentials(tls: TlsConfig) -> grpc.ChannelCredentials:
    """What a client trusts: the configured CA file, else the system's roots."""
    root = _read(tls.ca_file, "FLOW_TLS__CA_FILE") if tls.ca_file else None
    return grpc.ssl_channel_credentials(root_certificates=root)


def _read(path: str, setting: str) -> bytes:
    try:
        return pathlib.Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InvalidArgumentError(f"Config '{setting}' names {path!r}, which cannot be read "
                                   f"({exc.strerror}).", field=setting,
                                   reason="INVALID_CONFIG") from None
