"""Fernet encryption of stored secrets (variable values, connection passwords and extras).

The key comes from the configuration (`[core] fernet_key` / `FLOW_CORE__FERNET_KEY`); several
comma-separated keys allow rotation as in Airflow: the first encrypts, any decrypts.
"""

from __future__ import annotations

import os
import pathlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from flow.errors import FailedPreconditionError, InternalError

KEY_FILE = "fernet.key"


def new_token(nbytes: int = 32) -> str:
    """A random API token. Hex, so it never starts with '-' and passes unquoted through a
    command line (`--token X`), an HTTP header and a URL alike."""
    return secrets.token_hex(nbytes)


class SecretCodec:
    """Encrypts and decrypts text with the configured Fernet key(s)."""

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        try:
            self._fernet: MultiFernet | None = (
                MultiFernet([Fernet(k.encode()) for k in parts]) if parts else None)
        except ValueError as exc:
            raise FailedPreconditionError(
                f"Config 'FLOW_CORE__FERNET_KEY' is not a valid Fernet key ({exc}); create one "
                "with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'", reason="INVALID_CONFIG") from None

    @property
    def is_configured(self) -> bool:
        return self._fernet is not None

    def _require(self) -> MultiFernet:
        if self._fernet is None:
            raise FailedPreconditionError(
                "No Fernet key is configured, so variables and connections cannot be stored "
                "encrypted; set FLOW_CORE__FERNET_KEY (standalone creates one).",
                reason="FERNET_KEY_MISSING")
        return self._fernet

    def encrypt(self, text: str) -> str:
        """Ciphertext of `text` (empty text stays empty)."""
        if not text:
            return ""
        return self._require().encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Plain text of `token` (empty stays empty)."""
        if not token:
            return ""
        try:
            return self._require().decrypt(token.encode()).decode()
        except InvalidToken:
            raise InternalError("A stored secret cannot be decrypted with the configured "
                                "Fernet key(s); was FLOW_CORE__FERNET_KEY changed?",
                                reason="FERNET_KEY_MISMATCH") from None


def load_or_create_key(home: pathlib.Path) -> str:
    """The Fernet key kept in `$FLOW_HOME/fernet.key` (mode 0600), created on first use."""
    path = home / KEY_FILE
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = Fernet.generate_key().decode()
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
