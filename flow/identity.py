"""Who a caller is: roles, password hashes and API token secrets.

Passwords are hashed with scrypt (`hashlib.scrypt`, RFC 7914): memory-hard, in the standard
library (no native dependency to build), and verified in constant time. A stored hash reads
`scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`, so the cost can be raised later without losing
the old hashes.

API tokens (and UI sessions) are 256 random bits; only their SHA-256 is stored, which is
enough for a secret of that entropy (no KDF needed: nothing to brute-force).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets

from flow.errors import InvalidArgumentError

SCRYPT_N = 2**14  # 16 MiB with r=8: ~50 ms per hash on the development machine
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "flow_"  # noqa: S105 - not a secret: what every token starts with
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8  # what listings show of a token


class Role(enum.IntEnum):
    """A user's role; each one may do everything the lower ones may."""

    VIEWER = 1  # reads everything (secret values stay masked)
    USER = 2  # also triggers runs, clears and marks task instances
    OP = 3  # also edits variables, connections and pools
    ADMIN = 4  # also manages users and the tokens of others, and reads the audit log

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str, field: str = "role") -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise InvalidArgumentError(
                f"Unknown role {text!r}; one of: {', '.join(r.label for r in cls)}.",
                field=field, reason="UNKNOWN_ROLE") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check_password(password: str, field: str = "password") -> None:
    """InvalidArgumentError unless `password` is acceptable (length only: NIST 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgumentError(
            f"A password has at least {MIN_PASSWORD_LENGTH} characters.", field=field,
            reason="PASSWORD_TOO_SHORT")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidArgumentError(
            f"A password has at most {MAX_PASSWORD_LENGTH} characters.", field=field,
            reason="PASSWORD_TOO_LONG")


def hash_password(password: str) -> str:
    """The scrypt hash of `password` with a fresh salt (CPU-bound: call it off the loop)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_DKLEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (constant-time comparison of the digests)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to verify against when the user does not exist, so that an unknown name costs as
# much time as a wrong password.
DUMMY_PASSWORD_HASH = (f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(bytes(16))}$"
                       f"{_b64(bytes(SCRYPT_DKLEN))}")


def new_secret() -> str:
    """A new API token or session secret: `flow_` and 64 hex digits (hex never starts a
    command-line option, and needs no quoting in headers or URLs)."""
    return TOKEN_PREFIX + secrets.token_hex(32)


def hash_secret(secret: str) -> str:
    """The stored form of a token secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_prefix(secret: str) -> str:
    """The part of a token that listings show, to tell tokens apart."""
    return secret[:PREFIX_LENGTH]


def csrf_token_for(session_secret: str) -> str:
    """The CSRF token bound to a UI session: derived from its secret, which a cross-site page
    can neither read (HttpOnly cookie) nor compute back from this value."""
    return hashlib.sha256(b"flow-csrf:" + session_secret.encode()).hexdigest()


__all__ = [
    "DUMMY_PASSWORD_HASH", "Role", "check_password", "csrf_token_for", "hash_password",
    "hash_secret", "new_secret", "secret_prefix", "verify_password",
]
