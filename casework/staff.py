"""Staff accounts: hashed passwords, lock-out after repeated failures, API tokens that
expire and can be revoked, and a session version that signing out bumps."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from casework import audit
from casework.models import StaffToken, StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
ROLES = ("agent", "admin")
DEFAULT_TOKEN_DAYS = 90  # STAFF_TOKEN_DAYS overrides it


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
    if user.id is not None:  # a new password signs the old sessions out
        user.session_version = (user.session_version or 1) + 1
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


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once; only its hash is stored
    expires_at: datetime


def issue(session: Session, email: str, days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    """A new API bearer token for `email`, valid for `days` days."""
    if days < 1:
        raise ValueError("a token must be valid for at least one day")
    user = find(session, email)
    if user is None:
        raise LookupError(f"no staff account for {email}")
    secret = secrets.token_urlsafe(32)
    token = StaffToken(
        user=user, token_hash=_token_hash(secret), expires_at=utcnow() + timedelta(days=days)
    )
    session.add(token)
    session.flush()
    audit.log(
        session,
        audit.SYSTEM,
        "staff.token_issued",
        None,
        staff=user.email,
        token_id=token.id,
        expires_at=token.expires_at.isoformat(timespec="seconds"),
    )
    return IssuedToken(token.id, secret, token.expires_at)


def issue_token(session: Session, email: str, days: int = DEFAULT_TOKEN_DAYS) -> str:
    return issue(session, email, days).secret


def user_for_token(session: Session, token: str, now: datetime | None = None) -> StaffUser | None:
    """The account a live token belongs to: not expired, not revoked, account active and
    not locked out (a locked account is locked for the API too)."""
    if not token:
        return None
    now = now or utcnow()
    row = session.scalar(select(StaffToken).where(StaffToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = row.user
    return user if user.active and not is_locked(user, now) else None


def revoke(session: Session, who: str, actor: str = audit.SYSTEM) -> int:
    """Revoke by token id (one token) or by e-mail (every live token of that account, and
    its inbox sessions). Returns how many tokens were revoked."""
    who, now = who.strip(), utcnow()
    if "@" in who:
        user = find(session, who)
        if user is None:
            raise LookupError(f"no staff account for {who}")
        live = [t for t in user.tokens if t.revoked_at is None and t.expires_at > now]
        end_sessions(session, user)
    elif who.isdigit() and (token := session.get(StaffToken, int(who))) is not None:
        user, live = token.user, [token] if token.revoked_at is None else []
    else:
        raise LookupError(f"no staff account or token id {who}")
    for token in live:
        token.revoked_at = now
    audit.log(
        session,
        actor,
        "staff.token_revoked",
        None,
        staff=user.email,
        token_ids=[t.id for t in live],
    )
    return len(live)


def end_sessions(session: Session, user: StaffUser) -> None:
    """Every inbox session cookie of `user` stops working (see webhook.auth)."""
    user.session_version = (user.session_version or 1) + 1
    audit.log(session, user.email, "staff.sessions_ended")


def session_matches(user: StaffUser, version: int) -> bool:
    return user.session_version == version
