"""Staff accounts: hashed passwords, lock-out after repeated failures, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from casework import audit
from casework.models import StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
ROLES = ("agent", "admin")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))


def add_or_update(
    session: Session, email: str, password: str, role: str = "agent", name: str | None = None
) -> StaffUser:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    email = email.strip().lower()
    user = find(session, email) or StaffUser(email=email, name=name or email.split("@")[0])
    user.role, user.password_hash, user.active = role, generate_password_hash(password), True
    user.failed_logins, user.locked_until = 0, None
    if name:
        user.name = name
    session.add(user)
    session.flush()
    audit.log(session, audit.SYSTEM, "staff.saved", None, staff=email, role=role)
    return user


def is_locked(user: StaffUser, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The user on success; None on a wrong password or a locked / unknown account."""
    user = find(session, email)
    if user is None or not user.active:
        # Same work as a real check, so timing does not reveal which emails exist.
        check_password_hash(generate_password_hash("x"), password)
        return None
    if is_locked(user):
        audit.log(session, user.email, "staff.login_locked")
        return None
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = utcnow() + LOCKOUT
            user.failed_logins = 0
            audit.log(session, user.email, "staff.locked_out")
        else:
            audit.log(session, user.email, "staff.login_failed")
        return None
    user.failed_logins, user.locked_until = 0, None
    audit.log(session, user.email, "staff.login")
    return user


def issue_token(session: Session, email: str) -> str:
    """A new API bearer token (shown once; only its hash is kept)."""
    user = find(session, email)
    if user is None:
        raise LookupError(f"no staff account for {email}")
    token = secrets.token_urlsafe(32)
    user.api_token_hash = _token_hash(token)
    audit.log(session, audit.SYSTEM, "staff.token_issued", None, staff=user.email)
    return token


def user_for_token(session: Session, token: str) -> StaffUser | None:
    if not token:
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.api_token_hash == _token_hash(token)))
    return user if user and user.active else None
