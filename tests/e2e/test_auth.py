"""Authentication and roles through the real services: every gRPC method and HTTP route
refuses anonymous callers, each role against each operation, token revocation, UI sessions
and CSRF, the audit log, flowcli users/tokens, and no secret in any answer, log or the DB."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

import flow.v1
from flow.cli.main import main as flowcli_main
from flow.identity import Role
from flow.platform import Platform
from flow.v1 import (
    dag_run_service_pb2,
    dag_run_service_pb2_grpc,
    identity_service_pb2,
    identity_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)
from services.api.auth import Gatekeeper
from services.api.core import GatewayCore
from services.api.identity_core import IdentityCore
from services.api.permissions import permission_for
from services.api.web import build_app
from tests.e2e.api import eventually

pytestmark = pytest.mark.e2e
PUBLIC_ROUTES = {("GET", "/api/v1/health"), ("GET", "/api/v1/openapi.json"), ("GET", "/login"),
                 ("POST", "/login")}
ROLES = [Role.VIEWER, Role.USER, Role.OP, Role.ADMIN]
# Every secret this module creates: none may show up in an answer, a log or the DB.
SECRETS: list[str] = []
PASSWORD = "pw-Canary-7f3e1d9c"


def bearer(secret: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {secret}"),)


@pytest.fixture(scope="module")
def channel(platform: Platform) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(platform.addresses.grpc) as channel:
        yield channel


@pytest.fixture(scope="module")
def users(channel: grpc.Channel) -> Any:
    return user_service_pb2_grpc.UserServiceStub(channel)


@pytest.fixture(scope="module")
def role_tokens(platform: Platform, users: Any) -> dict[Role, str]:
    """One user per role (password PASSWORD), and an API token of each."""
    admin = bearer(platform.addresses.token)
    tokens = {}
    for role in ROLES:
        name = f"role-{role.label}"
        users.CreateUser(user_service_pb2.CreateUserRequest(
            username=name, role=int(role), password=PASSWORD), metadata=admin, timeout=30)
        secret = users.CreateToken(user_service_pb2.CreateTokenRequest(
            name="tests", owner=name), metadata=admin, timeout=30).secret
        SECRETS.append(secret)
        tokens[role] = secret
    SECRETS.append(PASSWORD)
    return tokens


def gateway_methods(platform: Platform) -> list[Any]:
    """Every method of every service the gateway lists over reflection (so new services and
    methods are covered without touching this test), from the descriptor pool."""
    for module in pkgutil.iter_modules(flow.v1.__path__):
        if module.name.endswith("_pb2"):
            importlib.import_module(f"flow.v1.{module.name}")
    with grpc.insecure_channel(platform.addresses.grpc) as channel:
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        names = {s.name for reply in replies for s in reply.list_services_response.service}
    names -= {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    pool = descriptor_pool.Default()
    return [m for name in sorted(names) for m in pool.FindServiceByName(name).methods]


def call_method(channel: grpc.Channel, method: Any, metadata: Any = ()) -> grpc.StatusCode:
    """Call `method` with an empty request; the status code it ends with (OK when it
    answered; a stream still open after 2 s counts as admitted: DEADLINE_EXCEEDED)."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    request_cls = GetMessageClass(method.input_type)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path, request_serializer=request_cls.SerializeToString,
                                          response_deserializer=lambda raw: raw)
            for _ in stream(request_cls(), metadata=metadata, timeout=2):
                pass
        else:
            unary = channel.unary_unary(path, request_serializer=request_cls.SerializeToString,
                                        response_deserializer=lambda raw: raw)
            unary(request_cls(), metadata=metadata, timeout=30)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_every_grpc_method_refuses_anonymous_callers(platform: Platform,
                                                      channel: grpc.Channel) -> None:
    """Walking the gateway's services: no token, a wrong token or a non-bearer header is
    UNAUTHENTICATED on every method."""
    methods = gateway_methods(platform)
    assert {"TriggerDagRun", "CreateUser", "RevokeToken", "ListAuditEvents"} <= {
        m.name for m in methods}
    assert len(methods) >= 35
    for method in methods:
        for metadata in ((), bearer("wrong"), bearer("flow_" + "0" * 64),
                         (("authorization", platform.addresses.token),)):
            code = call_method(channel, method, metadata)
            assert code == grpc.StatusCode.UNAUTHENTICATED, (method.full_name, metadata, code)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_http_route_refuses_anonymous_callers(platform: Platform) -> None:
    """Iterating the Starlette app's routes: each answers 401 with the error model (pages:
    a redirect to /login), except health, the OpenAPI document and the sign-in page."""
    app = build_app(GatewayCore(None, None, IdentityCore(None)), Gatekeeper(None))
    checked = 0
    with httpx.Client(base_url=platform.addresses.http, timeout=10) as http:
        for route in app.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method == "HEAD":
                    continue
                path = _concrete(route.path)  # type: ignore[attr-defined]
                checked += 1
                if (method, route.path) in PUBLIC_ROUTES:  # type: ignore[attr-defined]
                    continue
                for headers in ({}, {"Authorization": "Bearer wrong"},
                                {"Cookie": f"flow_session={platform.addresses.token}"}):
                    response = http.request(method, path, headers=headers)
                    if path == "/":
                        assert response.status_code == 303, response.text
                        assert response.headers["location"] == "/login"
                        continue
                    assert response.status_code == 401, (method, path, response.text)
                    assert response.json()["error"]["reason"] in ("BAD_TOKEN", "TOKEN_EXPIRED")
        assert http.get("/api/v1/health").status_code == 200
        assert http.get("/api/v1/openapi.json").status_code == 200
        assert http.get("/login").status_code == 200
    assert checked >= 40


def test_each_role_against_each_grpc_operation(platform: Platform, channel: grpc.Channel,
                                               role_tokens: dict[Role, str]) -> None:
    """Table-driven: every method with an empty request, as each role. PERMISSION_DENIED
    exactly when the role is below the one the table names; otherwise the call is admitted
    (it may still fail on the empty request: INVALID_ARGUMENT, NOT_FOUND, ...)."""
    for method in gateway_methods(platform):
        needed = permission_for(method.name).role
        for role in ROLES:
            code = call_method(channel, method, bearer(role_tokens[role]))
            if role < needed:
                assert code == grpc.StatusCode.PERMISSION_DENIED, (method.name, role, code)
            else:
                assert code not in (grpc.StatusCode.PERMISSION_DENIED,
                                    grpc.StatusCode.UNAUTHENTICATED,
                                    grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
                    method.name, role, code)


def test_each_role_against_each_rest_operation(platform: Platform,
                                               role_tokens: dict[Role, str]) -> None:
    """The same table over REST: 403 naming the role needed, else admitted."""
    from services.api.routes import OPERATIONS

    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        for op in OPERATIONS:
            if op.stream is not None:
                continue  # streams are viewer reads; the gRPC walk covers them
            needed = permission_for(op.rpc_name).role
            for role in ROLES:
                response = http.request(
                    op.method, "/api/v1" + _concrete(op.path),
                    headers={"Authorization": f"Bearer {role_tokens[role]}"})
                if role < needed:
                    assert response.status_code == 403, (op.operation_id, role, response.text)
                    error = response.json()["error"]
                    assert error["reason"] == "ROLE_FORBIDS"
                    assert f"needs the {needed.label} role" in error["message"]
                else:
                    assert response.status_code not in (401, 403, 500), (
                        op.operation_id, role, response.text)


def test_mutations_by_role_and_the_audit_log(platform: Platform, channel: grpc.Channel,
                                             users: Any, role_tokens: dict[Role, str]) -> None:
    """A user triggers a run, a viewer may not; both are in the audit log with actor,
    operation, outcome and target, readable by admins only (gRPC and REST)."""
    runs = dag_run_service_pb2_grpc.DagRunServiceStub(channel)
    request = dag_run_service_pb2.TriggerDagRunRequest(dag_id="example_bash",
                                                      run_id="audit-test-run")
    with pytest.raises(grpc.RpcError) as denied:
        runs.TriggerDagRun(request, metadata=bearer(role_tokens[Role.VIEWER]), timeout=30)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "needs the user role" in denied.value.details()
    runs.TriggerDagRun(request, metadata=bearer(role_tokens[Role.USER]), timeout=30)
    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        admin = {"Authorization": f"Bearer {role_tokens[Role.ADMIN]}"}
        events = http.get("/api/v1/auditEvents", params={"operation": "TriggerDagRun"},
                          headers=admin).json()["events"]
        mine = [e for e in events if e["details"].get("run_id") == "audit-test-run"]
        assert {(e["actor"], e["outcome"], e["details"]["transport"]) for e in mine} >= {
            ("role-user", "ok", "grpc"), ("role-viewer", "ROLE_FORBIDS", "grpc")}
        assert all(e["details"]["dag_id"] == "example_bash" for e in mine)
        made = http.post("/api/v1/variables", headers=admin,
                         json={"key": "audited_var", "value": "audit-value-secret"})
        assert made.status_code == 200, made.text
        rest = http.get("/api/v1/auditEvents", params={"operation": "SetVariable",
                                                       "actor": "role-admin"},
                        headers=admin).json()["events"]
        assert rest[0]["details"] == {"key": "audited_var", "transport": "rest"}
        assert "audit-value-secret" not in json.dumps(rest)
        assert http.get("/api/v1/auditEvents", headers={
            "Authorization": f"Bearer {role_tokens[Role.OP]}"}).status_code == 403


def test_tokens_revoke_and_role_changes_take_effect_at_once(
        platform: Platform, channel: grpc.Channel, users: Any,
        role_tokens: dict[Role, str]) -> None:
    """A revoked token is refused on the very next call; a role change applies to the
    user's existing tokens at once; users see and revoke only their own tokens."""
    admin = bearer(platform.addresses.token)
    users.CreateUser(user_service_pb2.CreateUserRequest(
        username="dora", role=user_service_pb2.ROLE_USER, password=PASSWORD), metadata=admin,
        timeout=30)
    created = users.CreateToken(user_service_pb2.CreateTokenRequest(name="ci", owner="dora"),
                                metadata=admin, timeout=30)
    SECRETS.append(created.secret)
    dora = bearer(created.secret)
    me = users.WhoAmI(user_service_pb2.WhoAmIRequest(), metadata=dora, timeout=30)
    assert (me.username, me.role, me.credential) == ("dora", user_service_pb2.ROLE_USER,
                                                     "token")
    listed = users.ListTokens(user_service_pb2.ListTokensRequest(), metadata=dora, timeout=30)
    assert [t.token_id for t in listed.tokens] == [created.token.token_id]
    assert listed.tokens[0].prefix == created.secret[:13] and listed.tokens[0].owner == "dora"
    eventually(lambda: users.ListTokens(user_service_pb2.ListTokensRequest(), metadata=dora,
                                        timeout=30).tokens[0].HasField("last_used_at"))
    for call, request in (
            (users.ListTokens, user_service_pb2.ListTokensRequest(owner="role-admin")),
            (users.CreateToken, user_service_pb2.CreateTokenRequest(owner="role-admin"))):
        with pytest.raises(grpc.RpcError) as info:
            call(request, metadata=dora, timeout=30)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin_token = users.ListTokens(user_service_pb2.ListTokensRequest(owner="role-admin"),
                                   metadata=admin, timeout=30).tokens[0].token_id
    with pytest.raises(grpc.RpcError) as info:
        users.RevokeToken(user_service_pb2.RevokeTokenRequest(token_id=admin_token),
                          metadata=dora, timeout=30)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND  # not hers: not even its existence

    users.SetUserRole(user_service_pb2.SetUserRoleRequest(
        username="dora", role=user_service_pb2.ROLE_VIEWER), metadata=admin, timeout=30)
    runs = dag_run_service_pb2_grpc.DagRunServiceStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        runs.TriggerDagRun(dag_run_service_pb2.TriggerDagRunRequest(dag_id="nope"),
                           metadata=dora, timeout=30)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED

    users.RevokeToken(user_service_pb2.RevokeTokenRequest(token_id=created.token.token_id),
                      metadata=dora, timeout=30)
    with pytest.raises(grpc.RpcError) as info:
        users.WhoAmI(user_service_pb2.WhoAmIRequest(), metadata=dora, timeout=30)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_bad_input_gets_specific_errors(users: Any, platform: Platform) -> None:
    """INVALID_ARGUMENT naming the field, ALREADY_EXISTS, NOT_FOUND, and the last admin
    cannot be demoted or deleted."""
    admin = bearer(platform.addresses.token)
    cases = [
        (user_service_pb2.CreateUserRequest(username="bad name", role=1, password=PASSWORD),
         grpc.StatusCode.INVALID_ARGUMENT, "username"),
        (user_service_pb2.CreateUserRequest(username="short", role=1, password="x"),
         grpc.StatusCode.INVALID_ARGUMENT, "password"),
        (user_service_pb2.CreateUserRequest(username="norole", password=PASSWORD),
         grpc.StatusCode.INVALID_ARGUMENT, "role"),
        (user_service_pb2.CreateUserRequest(username="role-op", role=1, password=PASSWORD),
         grpc.StatusCode.ALREADY_EXISTS, ""),
    ]
    for request, code, field in cases:
        with pytest.raises(grpc.RpcError) as info:
            users.CreateUser(request, metadata=admin, timeout=30)
        assert info.value.code() == code, request
        assert field in info.value.details().lower()
    with pytest.raises(grpc.RpcError) as info:
        users.DeleteUser(user_service_pb2.DeleteUserRequest(username="ghost"), metadata=admin,
                         timeout=30)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    users.CreateUser(user_service_pb2.CreateUserRequest(
        username="solo-admin-check", role=user_service_pb2.ROLE_VIEWER, password=PASSWORD),
        metadata=admin, timeout=30)
    listed = users.ListUsers(user_service_pb2.ListUsersRequest(), metadata=admin, timeout=30)
    admins = [u.username for u in listed.users if u.role == user_service_pb2.ROLE_ADMIN]
    for extra in admins[1:]:
        users.SetUserRole(user_service_pb2.SetUserRoleRequest(
            username=extra, role=user_service_pb2.ROLE_OP), metadata=admin, timeout=30)
    for call, request in (
            (users.SetUserRole, user_service_pb2.SetUserRoleRequest(
                username=admins[0], role=user_service_pb2.ROLE_VIEWER)),
            (users.DeleteUser, user_service_pb2.DeleteUserRequest(username=admins[0]))):
        with pytest.raises(grpc.RpcError) as info:
            call(request, metadata=admin, timeout=30)
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    for extra in admins[1:]:
        users.SetUserRole(user_service_pb2.SetUserRoleRequest(
            username=extra, role=user_service_pb2.ROLE_ADMIN), metadata=admin, timeout=30)


def _login(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post("/login", data={"username": username, "password": password})


def test_ui_session_login_csrf_logout(platform: Platform, role_tokens: dict[Role, str]) -> None:
    """A wrong password is refused; a sign-in sets an HttpOnly SameSite=Strict session cookie
    and a CSRF cookie; reads work with the cookie, a mutation without the CSRF token is 403
    and with it passes; sign-out ends the session on the server."""
    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        assert _login(http, "role-op", "wrong-password").status_code == 401
        assert _login(http, "nobody-here", PASSWORD).status_code == 401
        assert http.post("/login", data={"username": "role-op", "password": PASSWORD},
                         headers={"Origin": "https://evil.example"}).status_code == 403
        signed_in = _login(http, "role-op", PASSWORD)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        cookies = [c.lower() for c in signed_in.headers.get_list("set-cookie")]
        session = next(c for c in cookies if c.startswith("flow_session="))
        assert "httponly" in session and "samesite=strict" in session and "max-age=" in session
        csrf_cookie = next(c for c in cookies if c.startswith("flow_csrf="))
        assert "httponly" not in csrf_cookie
        csrf = http.cookies["flow_csrf"]
        page = http.get("/")
        assert page.status_code == 200 and "/static/js/app.js" in page.text
        assert http.get("/api/v1/whoami").json()["credential"] == "session"
        refused = http.post("/api/v1/variables", json={"key": "ui_var", "value": "1"})
        assert refused.status_code == 403 and refused.json()["error"]["reason"] == "CSRF_FAILED"
        wrong = http.post("/api/v1/variables", json={"key": "ui_var", "value": "1"},
                          headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        made = http.post("/api/v1/variables", json={"key": "ui_var", "value": "1"},
                         headers={"X-CSRF-Token": csrf})
        assert made.status_code == 200, made.text
        denied = http.post("/api/v1/users", json={"username": "x", "role": "ROLE_VIEWER"},
                           headers={"X-CSRF-Token": csrf})
        assert denied.status_code == 403 and "admin role" in denied.json()["error"]["message"]
        session_secret = http.cookies["flow_session"]
        SECRETS.append(session_secret)
        assert http.post("/logout").status_code == 403  # no CSRF token
        out = http.post("/logout", data={"csrf_token": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        replay = http.get("/api/v1/whoami", headers={"Cookie": f"flow_session={session_secret}"})
        assert replay.status_code == 401
        assert http.get("/", headers={"Cookie": f"flow_session={session_secret}"}
                        ).status_code == 303


def test_session_expires(platform: Platform) -> None:
    """A session past its lifetime is refused (a 1 s session opened on the internal API)."""
    scheduler = f"{platform.host}:{platform.services['scheduler'].info['grpc_port']}"
    with grpc.insecure_channel(scheduler) as internal:
        identity = identity_service_pb2_grpc.IdentityServiceStub(internal)
        with pytest.raises(grpc.RpcError) as info:  # the internal API needs its own token
            identity.Login(identity_service_pb2.LoginRequest(
                username="role-viewer", password=PASSWORD, ttl_seconds=1), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        login = identity.Login(identity_service_pb2.LoginRequest(
            username="role-viewer", password=PASSWORD, ttl_seconds=1),
            metadata=bearer(platform.internal_token), timeout=30)
    SECRETS.append(login.secret)
    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        def refused() -> bool:
            answer = http.get("/api/v1/dags", headers={"Cookie": f"flow_session={login.secret}"})
            return answer.status_code == 401 and answer.json()["error"]["reason"] == (
                "TOKEN_EXPIRED")

        eventually(refused, timeout=30, interval=0.2)


def test_failed_sign_ins_are_throttled(platform: Platform, users: Any) -> None:
    """After 10 wrong passwords for one user, even the right one is refused for a while;
    other users can still sign in."""
    users.CreateUser(user_service_pb2.CreateUserRequest(
        username="throttled", role=user_service_pb2.ROLE_VIEWER, password=PASSWORD),
        metadata=bearer(platform.addresses.token), timeout=30)
    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        for _ in range(10):
            assert _login(http, "throttled", "not-the-password").status_code == 401
        refused = _login(http, "throttled", PASSWORD)
        assert refused.status_code == 401 and "Too many failed sign-ins" in refused.text
        assert _login(http, "role-user", PASSWORD).status_code == 303


def cli(platform: Platform, token: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = [*args[:2], "--server", platform.addresses.grpc, f"--token={token}", *args[2:]]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = flowcli_main(argv)
    return code, out.getvalue(), err.getvalue()


def test_flowcli_users_and_tokens(platform: Platform) -> None:
    """users create (password from stdin, or generated and printed once), list, set-role,
    reset-password, delete; tokens create (secret once), list, revoke; audit list."""
    admin = platform.addresses.token
    code, out, err = cli(platform, admin, "users", "create", "erin", "--role", "user",
                         "--password-stdin", stdin="erin-password-1\n")
    assert code == 0, err
    SECRETS.append("erin-password-1")
    code, out, err = cli(platform, admin, "users", "create", "fred", "--role", "viewer",
                         "-o", "json")
    assert code == 0, err
    SECRETS.append(json.loads(out)["generated_password"])
    code, out, _ = cli(platform, admin, "users", "list", "-o", "json")
    assert {"erin": "ROLE_USER", "fred": "ROLE_VIEWER"}.items() <= {
        u["username"]: u["role"] for u in json.loads(out)}.items()
    assert "password" not in out
    assert cli(platform, admin, "users", "set-role", "fred", "op")[0] == 0
    assert cli(platform, admin, "users", "create", "fred", "--role", "op")[0] == 1
    assert cli(platform, admin, "users", "create", "gus", "--role", "op",
               "--password", "short")[0] == 2
    code, out, err = cli(platform, admin, "users", "reset-password", "fred")
    assert code == 0 and "Generated password" in out, err
    SECRETS.append(out.rsplit(": ", 1)[1].strip())

    code, out, err = cli(platform, admin, "tokens", "create", "--owner", "erin", "--name",
                         "nightly", "--expires-in", "3600", "-o", "json")
    assert code == 0, err
    created = json.loads(out)
    SECRETS.append(created["secret"])
    code, out, _ = cli(platform, created["secret"], "users", "whoami", "-o", "json")
    assert code == 0 and json.loads(out)["username"] == "erin"
    code, out, _ = cli(platform, created["secret"], "tokens", "list")
    assert created["token"]["token_id"] in out and created["secret"] not in out
    assert cli(platform, created["secret"], "users", "list")[0] == 1  # not an admin
    assert cli(platform, admin, "tokens", "revoke", created["token"]["token_id"])[0] == 0
    code, _, err = cli(platform, created["secret"], "users", "whoami")
    assert code == 1 and "token" in err.lower()
    code, out, _ = cli(platform, admin, "audit", "list", "--operation", "CreateUser")
    assert "erin" in out and "fred" in out
    assert cli(platform, admin, "users", "delete", "fred")[0] == 0
    assert cli(platform, admin, "users", "delete", "fred")[0] == 1


def test_no_secret_in_any_answer_log_or_the_db(platform: Platform,
                                               role_tokens: dict[Role, str]) -> None:
    """Every password and token secret used above is absent from the list answers, the
    audit log, every service log and (SQLite) the DB file, which holds hashes only."""
    assert len(SECRETS) >= 8
    admin = {"Authorization": f"Bearer {role_tokens[Role.ADMIN]}"}
    with httpx.Client(base_url=platform.addresses.http, timeout=30) as http:
        answers = "".join(http.get(path, headers=admin).text for path in (
            "/api/v1/users", "/api/v1/tokens", "/api/v1/auditEvents?page_size=1000",
            "/api/v1/whoami"))
    logs = "".join(path.read_text(errors="replace")
                   for path in platform.service_log_dir.glob("*.log"))
    blobs = {"answers": answers, "logs": logs}
    if platform.database_url is None:
        blobs["db"] = "".join(path.read_bytes().decode("latin-1")
                              for path in platform.home.glob("flow.db*"))
        assert "scrypt$" in blobs["db"]
    for secret in SECRETS:
        for where, text in blobs.items():
            assert secret not in text, f"a secret appears in the {where}"
