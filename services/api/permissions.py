"""THE table of who may do what: each public operation and the least role it needs.

Both transports look operations up here by their gRPC method name (REST routes by the
method they mirror, `Operation.rpc_name`), so gRPC and REST can never disagree. An operation
missing from the table needs the admin role (fail closed), and a test checks that every
public method and route has an entry. `audited` operations are written to the audit log,
whatever their outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from flow.errors import PermissionDeniedError
from flow.identity import Role

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Permission:
    role: Role
    audited: bool = False


def _reads(*names: str) -> dict[str, Permission]:
    return {name: Permission(Role.VIEWER) for name in names}


def _writes(role: Role, *names: str) -> dict[str, Permission]:
    return {name: Permission(role, audited=True) for name in names}


PERMISSIONS: dict[str, Permission] = {
    # Reads: every signed-in role (secret values stay masked).
    **_reads("ListDags", "GetDag", "ListImportErrors", "ListDagRuns", "GetDagRun",
             "WatchStateChanges", "ListTaskInstances", "GetTaskInstance", "ReadTaskLog",
             "FollowTaskLog", "GetXCom", "ListXComs", "GetVariable", "ListVariables",
             "GetConnection", "ListConnections", "ListWorkers", "ListQueues", "WhoAmI",
             "ListTokens", "ListTaskInstanceTries", "ListBackfills", "GetBackfill", "ListPools",
             "GetPool", "ListAssets", "ListAssetEvents", "GetDagSpec", "ListDagSpecVersions",
             "GetVersion", "GetDagSource", "GetRenderedTemplateFields"),
    # One's own tokens and session (another user's token needs admin: checked in the core).
    **_writes(Role.VIEWER, "CreateToken", "RevokeToken", "Logout"),
    **_writes(Role.USER, "TriggerDagRun", "ClearTaskInstances", "SetTaskInstanceState",
              "SetDagRunState", "CancelDagRun", "DeleteDagRun", "UpdateDag", "SubmitTask"),
    **_writes(Role.OP, "SetVariable", "DeleteVariable", "CreateConnection", "UpdateConnection",
              "DeleteConnection", "DeleteDag", "CreateBackfill", "CancelBackfill", "CreatePool",
              "UpdatePool", "DeletePool", "SubmitDagSpec"),
    **_writes(Role.ADMIN, "CreateUser", "DeleteUser", "SetUserRole", "ResetPassword"),
    "ListUsers": Permission(Role.ADMIN),
    "GetUser": Permission(Role.ADMIN),
    "ListAuditEvents": Permission(Role.ADMIN),
}
# Reachable without a credential (and so never looked up above).
PUBLIC_OPERATIONS = frozenset({"Health", "Login", "OpenApi"})
_FALLBACK = Permission(Role.ADMIN, audited=True)


def permission_for(operation: str) -> Permission:
    """The entry of `operation`; one missing from the table needs admin (and is logged)."""
    permission = PERMISSIONS.get(operation)
    if permission is None:
        log.warning("operation_without_permission_entry", operation=operation)
        return _FALLBACK
    return permission


def require_role(role: Role, operation: str) -> None:
    """PermissionDeniedError, naming the role needed, unless `role` may run `operation`."""
    needed = permission_for(operation).role
    if role < needed:
        raise PermissionDeniedError(
            f"{operation} needs the {needed.label} role; you have the {role.label} role.",
            reason="ROLE_FORBIDS",
            metadata={"operation": operation, "required_role": needed.label,
                      "role": role.label})


__all__ = ["PERMISSIONS", "PUBLIC_OPERATIONS", "Permission", "permission_for", "require_role"]
