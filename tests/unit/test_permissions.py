"""The one permission table covers every public gRPC method and every REST route, and the
role ladder and password hashing behave."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from flow.errors import PermissionDeniedError
from flow.identity import (
    Role,
    csrf_token_for,
    hash_password,
    hash_secret,
    new_secret,
    verify_password,
)
from services.api.auth import audit_details
from services.api.core import GatewayCore
from services.api.identity_core import IdentityCore
from services.api.permissions import PERMISSIONS, require_role
from services.api.routes import OPERATIONS
from services.api.servicer_public import public_registrations


def public_methods() -> set[str]:
    """Every method of every service the gateway serves, from the descriptor pool."""
    core = GatewayCore(None, None, IdentityCore(None))
    pool = descriptor_pool.Default()
    return {method.name for registration in public_registrations(core)
            for method in pool.FindServiceByName(registration.service_name).methods}


def test_every_public_method_and_route_has_an_entry() -> None:
    """A new RPC or route without a table entry fails here (at run time it would need admin)."""
    methods = public_methods()
    assert methods - set(PERMISSIONS) == set()
    assert {op.rpc_name for op in OPERATIONS} <= methods
    assert set(PERMISSIONS) - methods <= {"Logout"}  # the UI's own operation


def test_roles_are_a_ladder_and_denials_name_the_role() -> None:
    """Each role may what the ones below it may; a refusal names the role needed."""
    require_role(Role.VIEWER, "ListDags")
    require_role(Role.USER, "TriggerDagRun")
    with pytest.raises(PermissionDeniedError) as info:
        require_role(Role.USER, "SetVariable")
    assert "op role" in info.value.message and info.value.reason == "ROLE_FORBIDS"
    with pytest.raises(PermissionDeniedError):
        require_role(Role.OP, "NoSuchOperation")  # not in the table: admin only
    require_role(Role.ADMIN, "NoSuchOperation")


def test_passwords_are_salted_scrypt_and_verified() -> None:
    """Two hashes of one password differ; only the right password verifies."""
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "garbage")


def test_token_secrets_are_high_entropy_and_stored_hashed() -> None:
    """A secret is 256 random bits in hex; the stored form is its SHA-256, the CSRF token
    another derivation."""
    secret = new_secret()
    assert secret.startswith("flow_") and len(secret) == 5 + 64
    assert hash_secret(secret) != secret and len(hash_secret(secret)) == 64
    assert csrf_token_for(secret) not in (secret, hash_secret(secret))


def test_audit_details_never_carry_secret_fields() -> None:
    """Passwords, variable values and connection passwords stay out of audit details."""
    from flow.v1 import connection_service_pb2, user_service_pb2, variable_service_pb2

    details = audit_details(user_service_pb2.CreateUserRequest(
        username="ann", role=user_service_pb2.ROLE_OP, password="hunter2hunter2"), "grpc")
    assert details == {"username": "ann", "role": "ROLE_OP", "transport": "grpc"}
    variable = audit_details(variable_service_pb2.SetVariableRequest(
        variable=variable_service_pb2.Variable(key="k", value="v-secret")), "rest")
    assert variable == {"key": "k", "transport": "rest"}
    connection = audit_details(connection_service_pb2.CreateConnectionRequest(
        connection=connection_service_pb2.Connection(conn_id="db", password="pw-secret")),
        "grpc")
    assert "pw-secret" not in str(connection) and connection["conn_id"] == "db"


def test_the_openapi_document_names_each_routes_role() -> None:
    """Each operation of the OpenAPI document says the role it needs, from the same table."""
    from services.api.openapi import build_openapi

    document = build_openapi(OPERATIONS)
    roles = {spec["operationId"]: spec["x-flow-role"] for path in document["paths"].values()
             for spec in path.values() if "x-flow-role" in spec}
    assert roles["triggerDagRun"] == "user" and roles["setVariable"] == "op"
    assert roles["createUser"] == "admin" and roles["listDags"] == "viewer"
    assert len(roles) == len(OPERATIONS)


def test_standalone_admin_password_never_reaches_user_code() -> None:
    """FLOW_ADMIN_PASSWORD is a credential setting: task and parse environments drop it."""
    from flow.config import without_credentials

    env = without_credentials({"FLOW_ADMIN_PASSWORD": "x", "FLOW_AUTH__TOKEN": "y", "A": "1"})
    assert env == {"A": "1"}
