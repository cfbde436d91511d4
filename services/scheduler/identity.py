"""Users, API tokens, UI sessions and the audit log, in the metadata DB.

Transport-free. Reads open their own session; writes go through the core's unit of work (the
DB's one writer). Passwords are scrypt-hashed off the event loop; token and session secrets
are stored as SHA-256 only, and never logged.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import string
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, func, select

from flow.db.models import ID_LENGTH, ApiToken, AuditEvent, User
from flow.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnauthenticatedError,
)
from flow.identity import (
    DUMMY_PASSWORD_HASH,
    Role,
    check_password,
    hash_password,
    hash_secret,
    new_secret,
    secret_prefix,
    verify_password,
)
from services.scheduler.core.event_applier import SchedulingCore
from services.scheduler.core.unit import UnitOfWork

log = structlog.get_logger(__name__)
USERNAME = re.compile(r"^[A-Za-z0-9._@+-]+$")
API, SESSION = "api", "session"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600
# Sign-in throttle: after this many wrong passwords for one username within the window, its
# sign-ins are refused until the window has passed (per scheduler process).
MAX_FAILED_LOGINS = 10
FAILED_LOGIN_WINDOW_SECONDS = 300.0
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class UserRecord:
    username: str
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    owner: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class PrincipalRecord:
    username: str
    role: Role
    token_id: str
    credential: str  # "token" or "session"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    created_at: datetime
    actor: str
    operation: str
    outcome: str
    details: dict[str, str]


def validate_username(username: str, field: str = "username") -> str:
    if not username:
        raise InvalidArgumentError("A username is required.", field=field)
    if len(username) > ID_LENGTH or not USERNAME.match(username):
        raise InvalidArgumentError(
            f"Username {username[:50]!r} is not valid: use at most {ID_LENGTH} letters, digits "
            "and . _ @ + -.", field=field, reason="INVALID_USERNAME")
    return username


def generate_password() -> str:
    """16 letters and digits (~95 bits), for a user created or reset without a password."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


def _user_not_found(username: str) -> NotFoundError:
    return NotFoundError(f"User '{username}' does not exist; see 'flowcli users list'.",
                         reason="USER_NOT_FOUND", metadata={"username": username})


def _bad_credentials() -> UnauthenticatedError:
    return UnauthenticatedError("Wrong username or password.", reason="BAD_CREDENTIALS")


def _user(row: User) -> UserRecord:
    return UserRecord(row.username, Role[row.role.upper()], row.created_at, row.updated_at)


def _token(row: ApiToken) -> TokenRecord:
    return TokenRecord(row.token_id, row.username, row.name, row.prefix, row.created_at,
                       row.last_used_at, row.expires_at)


async def _admin_count(unit: UnitOfWork) -> int:
    count = await unit.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.label))
    return int(count or 0)


class IdentityStore:
    """The flow_user, api_token and audit_log tables."""

    def __init__(self, core: SchedulingCore) -> None:
        self._core = core
        self._touches: set[asyncio.Task[None]] = set()
        self._failed_logins: dict[str, deque[float]] = {}

    # --- credentials --------------------------------------------------------------------

    async def authenticate(self, secret: str) -> PrincipalRecord:
        """The user behind a token or session secret; UnauthenticatedError otherwise."""
        if not secret:
            raise UnauthenticatedError("No credential was presented.")
        digest = hash_secret(secret)
        async with self._core.sessions() as session:
            found = (await session.execute(
                select(ApiToken, User).join(User, User.username == ApiToken.username)
                .where(ApiToken.token_hash == digest))).first()
        if found is None or not hmac.compare_digest(found[0].token_hash, digest):
            raise UnauthenticatedError("Unknown or revoked token.", reason="BAD_TOKEN")
        token, user = found
        now = datetime.now(UTC)
        if token.expires_at is not None and token.expires_at <= now:
            raise UnauthenticatedError(
                "This session has ended; sign in again." if token.kind == SESSION
                else "This token has expired.", reason="TOKEN_EXPIRED")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            self._touch(token.token_id, now)
        return PrincipalRecord(user.username, Role[user.role.upper()], token.token_id,
                               "session" if token.kind == SESSION else "token")

    def _touch(self, token_id: str, now: datetime) -> None:
        """Record last use in the background: a request never waits for it."""

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = now

        async def touch() -> None:
            try:
                await self._core.submit(op)
            except Exception:
                log.warning("token_last_used_not_saved", token_id=token_id)

        task = asyncio.create_task(touch())
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def login(self, username: str, password: str, ttl_seconds: int
                    ) -> tuple[PrincipalRecord, str, datetime]:
        """Check the password and open a session: (principal, secret, expires_at)."""
        if not username or not password:
            raise _bad_credentials()
        if ttl_seconds <= 0 or ttl_seconds > MAX_TTL_SECONDS:
            raise InvalidArgumentError("ttl_seconds must be positive.", field="ttl_seconds")
        failures = self._recent_failures(username)
        if len(failures) >= MAX_FAILED_LOGINS:
            raise UnauthenticatedError(
                "Too many failed sign-ins for this user; try again in a few minutes.",
                reason="LOGIN_THROTTLED")
        async with self._core.sessions() as session:
            row = await session.get(User, username)
        stored = row.password_hash if row is not None else DUMMY_PASSWORD_HASH
        matches = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not matches:
            failures.append(time.monotonic())
            raise _bad_credentials()
        self._failed_logins.pop(username, None)
        secret = new_secret()
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        token_id = uuid.uuid4().hex

        async def op(unit: UnitOfWork) -> None:
            # sessions that ended are dropped when their user signs in again
            await unit.session.execute(delete(ApiToken).where(
                ApiToken.username == username, ApiToken.kind == SESSION,
                ApiToken.expires_at <= unit.now))
            unit.session.add(ApiToken(
                token_id=token_id, username=username, kind=SESSION, name="ui session",
                prefix=secret_prefix(secret), token_hash=hash_secret(secret),
                created_at=unit.now, last_used_at=unit.now, expires_at=expires_at))

        await self._core.submit(op)
        principal = PrincipalRecord(username, Role[row.role.upper()], token_id, "session")
        return principal, secret, expires_at

    def _recent_failures(self, username: str) -> deque[float]:
        """The times of `username`'s failed sign-ins within the window (kept per name)."""
        horizon = time.monotonic() - FAILED_LOGIN_WINDOW_SECONDS
        if len(self._failed_logins) > 10_000:  # bounded: forget names whose window passed
            for name in [n for n, q in self._failed_logins.items() if not q or q[-1] < horizon]:
                del self._failed_logins[name]
        failures = self._failed_logins.setdefault(username[:ID_LENGTH], deque())
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures

    # --- users --------------------------------------------------------------------------

    async def list_users(self, offset: int, limit: int) -> list[UserRecord]:
        async with self._core.sessions() as session:
            rows = (await session.execute(select(User).order_by(User.username)
                                          .offset(offset).limit(limit))).scalars().all()
        return [_user(r) for r in rows]

    async def get_user(self, username: str) -> UserRecord:
        validate_username(username)
        async with self._core.sessions() as session:
            row = await session.get(User, username)
        if row is None:
            raise _user_not_found(username)
        return _user(row)

    async def create_user(self, username: str, role: Role, password: str
                          ) -> tuple[UserRecord, str]:
        """(the user, the generated password or "" when one was given)."""
        validate_username(username)
        generated = "" if password else generate_password()
        check_password(password or generated)
        password_hash = await asyncio.to_thread(hash_password, password or generated)

        async def op(unit: UnitOfWork) -> UserRecord:
            if await unit.session.get(User, username) is not None:
                raise AlreadyExistsError(f"User '{username}' already exists.",
                                         reason="USER_EXISTS", metadata={"username": username})
            row = User(username=username, role=role.label, password_hash=password_hash,
                       created_at=unit.now, updated_at=unit.now)
            unit.session.add(row)
            return _user(row)

        return await self._core.submit(op), generated

    async def delete_user(self, username: str) -> None:
        validate_username(username)

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(User, username)
            if row is None:
                raise _user_not_found(username)
            if row.role == Role.ADMIN.label and await _admin_count(unit) <= 1:
                raise FailedPreconditionError(
                    f"'{username}' is the last admin; make another user admin first.",
                    reason="LAST_ADMIN", metadata={"username": username})
            await unit.session.execute(delete(ApiToken).where(ApiToken.username == username))
            await unit.session.delete(row)

        await self._core.submit(op)

    async def set_role(self, username: str, role: Role) -> UserRecord:
        validate_username(username)

        async def op(unit: UnitOfWork) -> UserRecord:
            row = await unit.session.get(User, username)
            if row is None:
                raise _user_not_found(username)
            if (row.role == Role.ADMIN.label and role != Role.ADMIN
                    and await _admin_count(unit) <= 1):
                raise FailedPreconditionError(
                    f"'{username}' is the last admin; make another user admin first.",
                    reason="LAST_ADMIN", metadata={"username": username})
            row.role, row.updated_at = role.label, unit.now
            return _user(row)

        return await self._core.submit(op)

    async def reset_password(self, username: str, password: str) -> str:
        """Set the password and end the user's sessions; the generated password or ""."""
        validate_username(username)
        generated = "" if password else generate_password()
        check_password(password or generated)
        password_hash = await asyncio.to_thread(hash_password, password or generated)

        async def op(unit: UnitOfWork) -> None:
            row = await unit.session.get(User, username)
            if row is None:
                raise _user_not_found(username)
            row.password_hash, row.updated_at = password_hash, unit.now
            await unit.session.execute(delete(ApiToken).where(
                ApiToken.username == username, ApiToken.kind == SESSION))

        await self._core.submit(op)
        return generated

    # --- API tokens ---------------------------------------------------------------------

    async def create_token(self, owner: str, name: str, expires_in_seconds: int
                           ) -> tuple[TokenRecord, str]:
        """(the token, its secret): the secret is answered once and stored hashed."""
        validate_username(owner, "owner")
        if len(name) > ID_LENGTH:
            raise InvalidArgumentError(f"A token name has at most {ID_LENGTH} characters.",
                                       field="name")
        if expires_in_seconds < 0 or expires_in_seconds > MAX_TTL_SECONDS:
            raise InvalidArgumentError(
                f"expires_in_seconds must be between 0 (never) and {MAX_TTL_SECONDS}.",
                field="expires_in_seconds")
        secret = new_secret()

        async def op(unit: UnitOfWork) -> TokenRecord:
            if await unit.session.get(User, owner) is None:
                raise _user_not_found(owner)
            row = ApiToken(
                token_id=uuid.uuid4().hex, username=owner, kind=API, name=name,
                prefix=secret_prefix(secret), token_hash=hash_secret(secret),
                created_at=unit.now, last_used_at=None,
                expires_at=(unit.now + timedelta(seconds=expires_in_seconds)
                            if expires_in_seconds else None))
            unit.session.add(row)
            return _token(row)

        return await self._core.submit(op), secret

    async def list_tokens(self, owner: str, offset: int, limit: int) -> list[TokenRecord]:
        query = select(ApiToken).where(ApiToken.kind == API)
        if owner:
            query = query.where(ApiToken.username == owner)
        async with self._core.sessions() as session:
            rows = (await session.execute(
                query.order_by(ApiToken.created_at.desc(), ApiToken.token_id)
                .offset(offset).limit(limit))).scalars().all()
        return [_token(r) for r in rows]

    async def revoke(self, token_id: str, owner: str = "") -> None:
        """Delete a token or session (only `owner`'s when set); NotFoundError otherwise."""
        if not token_id:
            raise InvalidArgumentError("token_id is required.", field="token_id")

        async def op(unit: UnitOfWork) -> int:
            statement = delete(ApiToken).where(ApiToken.token_id == token_id)
            if owner:
                statement = statement.where(ApiToken.username == owner)
            result = await unit.session.execute(statement)
            return int(result.rowcount)  # type: ignore[attr-defined]

        if not await self._core.submit(op):
            raise NotFoundError(f"Token '{token_id}' does not exist; see 'flowcli tokens list'.",
                                reason="TOKEN_NOT_FOUND", metadata={"token_id": token_id})

    # --- audit log ----------------------------------------------------------------------

    async def record(self, actor: str, operation: str, outcome: str,
                     details: dict[str, str]) -> None:
        async def op(unit: UnitOfWork) -> None:
            unit.session.add(AuditEvent(created_at=unit.now, actor=actor[:ID_LENGTH],
                                        operation=operation[:100], outcome=outcome[:100],
                                        details=details))

        await self._core.submit(op)

    async def list_audit(self, actor: str, operation: str, offset: int, limit: int
                         ) -> list[AuditRecord]:
        query = select(AuditEvent)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        if operation:
            query = query.where(AuditEvent.operation == operation)
        async with self._core.sessions() as session:
            rows = (await session.execute(query.order_by(AuditEvent.id.desc())
                                          .offset(offset).limit(limit))).scalars().all()
        return [AuditRecord(r.id, r.created_at, r.actor, r.operation, r.outcome,
                            {str(k): str(v) for k, v in (r.details or {}).items()})
                for r in rows]

