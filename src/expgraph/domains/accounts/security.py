"""Secrets: passwords (argon2id), tokens and keys (random, stored as SHA-256),
TOTP codes (RFC 6238, each accepted once) and backup codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_PREFIX = "exs_"
KEY_PREFIX = "exk_"
TOTP_PERIOD = 30
BACKUP_CODE_COUNT = 10
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
# Verified when no user matches, so a login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (tokens, keys, backup codes): what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """``(full key, public prefix)``: the prefix identifies the key in lists."""
    public = secrets.token_hex(4)
    return f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}", f"{KEY_PREFIX}{public}"


def new_backup_codes() -> list[str]:
    """Ten codes of 80 random bits each, as XXXX-XXXX-XXXX-XXXX (base32)."""
    codes = []
    for _ in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(BASE32) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalize_backup_code(code: str) -> str:
    raw = code.replace("-", "").replace(" ", "").upper()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_totp_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def totp_step_for(
    secret: str, code: str, *, after_step: int | None, now: float | None = None
) -> int | None:
    """The time step whose code ``code`` is (one step of clock drift either way),
    provided it is later than ``after_step``; None when the code is not valid."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // TOTP_PERIOD)
    for step in (current - 1, current, current + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
