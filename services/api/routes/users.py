"""REST routes of UserService and AuditService: /users, /tokens, /whoami, /auditEvents.

Passwords and token secrets go in; only a generated password or a new token's secret ever
comes out, once, in the answer that created it.
"""

from __future__ import annotations

from flow.v1 import audit_service_pb2 as audit_pb
from flow.v1 import user_service_pb2 as pb
from services.api.routes.common import Operation

_USER = ("User",)
_TOKEN = ("Token",)

OPERATIONS = (
    Operation(
        "GET", "/whoami", "whoAmI", "Who the caller is and the role it acts with.",
        pb.WhoAmIRequest, pb.WhoAmIResponse,
        call=lambda core, req: core.identity.who_am_i(req), tags=_USER),
    Operation(
        "GET", "/users", "listUsers", "Lists users, ordered by username. Admin only.",
        pb.ListUsersRequest, pb.ListUsersResponse,
        call=lambda core, req: core.identity.list_users(req),
        query=("page_size", "page_token"), tags=_USER),
    Operation(
        "POST", "/users", "createUser",
        "Creates a user. Body: {\"username\", \"role\": \"ROLE_VIEWER\"|\"ROLE_USER\"|"
        "\"ROLE_OP\"|\"ROLE_ADMIN\", \"password\"}; without a password one is generated and "
        "answered once. Admin only.",
        pb.CreateUserRequest, pb.CreateUserResponse,
        call=lambda core, req: core.identity.create_user(req), body=True, tags=_USER),
    Operation(
        "GET", "/users/{username}", "getUser", "Gets one user. Admin only.",
        pb.GetUserRequest, pb.GetUserResponse,
        call=lambda core, req: core.identity.get_user(req), tags=_USER),
    Operation(
        "DELETE", "/users/{username}", "deleteUser",
        "Deletes a user and revokes its tokens and sessions. Admin only.",
        pb.DeleteUserRequest, pb.DeleteUserResponse,
        call=lambda core, req: core.identity.delete_user(req), tags=_USER),
    Operation(
        "PATCH", "/users/{username}/role", "setUserRole",
        "Changes a user's role. Body: {\"role\": \"ROLE_OP\"}. Admin only.",
        pb.SetUserRoleRequest, pb.SetUserRoleResponse,
        call=lambda core, req: core.identity.set_user_role(req), body=True, tags=_USER),
    Operation(
        "POST", "/users/{username}/password", "resetPassword",
        "Sets a new password (body {\"password\"}; empty: one is generated and answered once) "
        "and ends the user's sessions. Admin only.",
        pb.ResetPasswordRequest, pb.ResetPasswordResponse,
        call=lambda core, req: core.identity.reset_password(req), body=True, tags=_USER),
    Operation(
        "POST", "/tokens", "createToken",
        "Creates an API token. Body: {\"name\", \"owner\", \"expires_in_seconds\"}, every key "
        "optional (owner: admin only for another user). The secret is answered once.",
        pb.CreateTokenRequest, pb.CreateTokenResponse,
        call=lambda core, req: core.identity.create_token(req), body=True, tags=_TOKEN),
    Operation(
        "GET", "/tokens", "listTokens",
        "Lists API tokens without their secrets: the caller's, or anyone's for an admin.",
        pb.ListTokensRequest, pb.ListTokensResponse,
        call=lambda core, req: core.identity.list_tokens(req),
        query=("owner", "page_size", "page_token"), tags=_TOKEN),
    Operation(
        "DELETE", "/tokens/{token_id}", "revokeToken", "Revokes an API token at once.",
        pb.RevokeTokenRequest, pb.RevokeTokenResponse,
        call=lambda core, req: core.identity.revoke_token(req), tags=_TOKEN),
    Operation(
        "GET", "/auditEvents", "listAuditEvents",
        "The audit log, newest first: who triggered, cleared, marked, changed variables, "
        "connections, users and tokens, and sign-ins. Admin only.",
        audit_pb.ListAuditEventsRequest, audit_pb.ListAuditEventsResponse,
        call=lambda core, req: core.identity.list_audit_events(req),
        query=("actor", "operation", "page_size", "page_token"), tags=("Audit",)),
)
