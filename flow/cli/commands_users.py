"""`flowcli users list|create|delete|set-role|reset-password|whoami`, `flowcli tokens
create|list|revoke` and `flowcli audit list`.

A password is read from --password-stdin (or --password, which other users of the machine
can see in the process list); without one the server generates it and flowcli prints it
once. A new token's secret is printed once too: only its hash is stored.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flow.cli.client import FlowClient
from flow.cli.output import emit, format_time, render_data, render_fields, render_table
from flow.errors import InvalidArgumentError
from flow.identity import Role
from flow.v1 import audit_service_pb2 as audit_pb
from flow.v1 import user_service_pb2 as pb

ROLES = [r.label for r in Role]


def _role(value: int) -> str:
    return Role(value).label if value in Role._value2member_map_ else ""


def _password(args: argparse.Namespace) -> str:
    if args.password is not None and args.password_stdin:
        raise InvalidArgumentError("Give --password or --password-stdin, not both.",
                                   field="password")
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(args.password or "")


def _print_generated(username: str, password: str, output: str) -> None:
    if password:
        emit(f"Generated password for {username} (shown this once): {password}"
             if output == "table" else render_data({"generated_password": password}, output))


async def list_users(args: argparse.Namespace, client: FlowClient) -> int:
    items = await client.list_all("users", "ListUsers", pb.ListUsersRequest(), "users")
    if args.output != "table":
        emit(render_data(items, args.output))
        return 0
    emit(render_table(["USERNAME", "ROLE", "CREATED", "UPDATED"],
                      [(u.username, _role(u.role), format_time(u, "created_at"),
                        format_time(u, "updated_at")) for u in items]))
    return 0


async def create_user(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("users", "CreateUser", pb.CreateUserRequest(
        username=args.username, role=int(Role.parse(args.role)), password=_password(args)))
    if args.output != "table" and not response.generated_password:
        emit(render_data(response.user, args.output))
        return 0
    if args.output == "table":
        emit(f"User {args.username} created with role {args.role}.")
    _print_generated(args.username, response.generated_password, args.output)
    return 0


async def delete_user(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("users", "DeleteUser", pb.DeleteUserRequest(username=args.username))
    emit(f"User {args.username} deleted; its tokens and sessions are revoked.")
    return 0


async def set_role(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("users", "SetUserRole", pb.SetUserRoleRequest(
        username=args.username, role=int(Role.parse(args.role))))
    if args.output != "table":
        emit(render_data(response.user, args.output))
        return 0
    emit(f"User {args.username} now has the role {_role(response.user.role)}.")
    return 0


async def reset_password(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("users", "ResetPassword", pb.ResetPasswordRequest(
        username=args.username, password=_password(args)))
    if args.output == "table":
        emit(f"Password of {args.username} changed; its web sessions are ended.")
    _print_generated(args.username, response.generated_password, args.output)
    return 0


async def who_am_i(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("users", "WhoAmI", pb.WhoAmIRequest())
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    emit(render_fields([("username", response.username), ("role", _role(response.role)),
                        ("credential", response.credential)]))
    return 0


async def create_token(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("users", "CreateToken", pb.CreateTokenRequest(
        name=args.name, owner=args.owner or "", expires_in_seconds=args.expires_in or 0))
    if args.output != "table":
        emit(render_data(response, args.output))
        return 0
    emit(f"Token {response.token.token_id} of {response.token.owner} created. Its secret, "
         f"shown this once:\n{response.secret}")
    return 0


async def list_tokens(args: argparse.Namespace, client: FlowClient) -> int:
    items = await client.list_all("users", "ListTokens",
                                  pb.ListTokensRequest(owner=args.owner or ""), "tokens")
    if args.output != "table":
        emit(render_data(items, args.output))
        return 0
    emit(render_table(["TOKEN_ID", "PREFIX", "NAME", "OWNER", "CREATED", "LAST_USED",
                       "EXPIRES"],
                      [(t.token_id, t.prefix + "...", t.name, t.owner,
                        format_time(t, "created_at"), format_time(t, "last_used_at"),
                        format_time(t, "expires_at") or "never") for t in items]))
    return 0


async def revoke_token(args: argparse.Namespace, client: FlowClient) -> int:
    await client.call("users", "RevokeToken", pb.RevokeTokenRequest(token_id=args.token_id))
    emit(f"Token {args.token_id} revoked.")
    return 0


async def list_audit(args: argparse.Namespace, client: FlowClient) -> int:
    response = await client.call("audit", "ListAuditEvents", audit_pb.ListAuditEventsRequest(
        actor=args.actor or "", operation=args.operation or "", page_size=args.limit))
    items = list(response.events)
    if args.output != "table":
        emit(render_data(items, args.output))
        return 0
    emit(render_table(["TIME", "ACTOR", "OPERATION", "OUTCOME", "DETAILS"],
                      [(format_time(e, "created_at"), e.actor, e.operation, e.outcome,
                        " ".join(f"{k}={v}" for k, v in sorted(e.details.items())))
                       for e in items]))
    return 0


def _password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", default=None,
                        help="the password (visible in the process list: prefer "
                             "--password-stdin); none: one is generated and printed once")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    users = subparsers.add_parser("users", help="users and their roles (admin)")
    verbs = users.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("list", parents=[common], help="the users").set_defaults(
        handler=list_users)
    p = verbs.add_parser("create", parents=[common], help="create a user")
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, required=True)
    _password_options(p)
    p.set_defaults(handler=create_user)
    p = verbs.add_parser("delete", parents=[common], help="delete a user and its tokens")
    p.add_argument("username")
    p.set_defaults(handler=delete_user)
    p = verbs.add_parser("set-role", parents=[common], help="change a user's role")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.set_defaults(handler=set_role)
    p = verbs.add_parser("reset-password", parents=[common],
                         help="set a user's password and end its web sessions")
    p.add_argument("username")
    _password_options(p)
    p.set_defaults(handler=reset_password)
    verbs.add_parser("whoami", parents=[common], help="who this flowcli acts as").set_defaults(
        handler=who_am_i)

    tokens = subparsers.add_parser("tokens", help="API tokens")
    verbs = tokens.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("create", parents=[common],
                         help="create an API token (its secret is printed once)")
    p.add_argument("--name", default="", help="what the token is for")
    p.add_argument("--owner", default=None, help="another user's (admin only)")
    p.add_argument("--expires-in", type=int, default=None, metavar="SECONDS",
                   help="lifetime in seconds (default: no expiry)")
    p.set_defaults(handler=create_token)
    p = verbs.add_parser("list", parents=[common],
                         help="your tokens (an admin: everyone's), never their secrets")
    p.add_argument("--owner", default=None, help="only this user's tokens")
    p.set_defaults(handler=list_tokens)
    p = verbs.add_parser("revoke", parents=[common], help="revoke a token at once")
    p.add_argument("token_id")
    p.set_defaults(handler=revoke_token)

    audit = subparsers.add_parser("audit", help="the audit log (admin)")
    verbs = audit.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", parents=[common], help="recent audit events, newest first")
    p.add_argument("--actor", default=None)
    p.add_argument("--operation", default=None, help="e.g. TriggerDagRun")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(handler=list_audit)
