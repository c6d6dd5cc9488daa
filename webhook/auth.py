"""Staff authentication: Flask-Login sessions for the inbox, bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, request
from flask_login import LoginManager, UserMixin, current_user

from casework import staff
from casework.models import StaffUser
from webhook.state import state

login_manager = LoginManager()
login_manager.login_view = "inbox.login"
login_manager.login_message = "Please sign in to use the inbox."
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class StaffPrincipal(UserMixin):
    """A detached copy of the staff row: views never hold a database session open."""

    id: int
    email: str
    name: str
    role: str
    session_version: int = 1

    def get_id(self) -> str:
        """What the session cookie holds: the account and its session version, so the
        server can refuse a cookie from before a sign-out."""
        return f"{self.id}:{self.session_version}"

    @classmethod
    def of(cls, user: StaffUser) -> StaffPrincipal:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            session_version=user.session_version,
        )


def _parse_session_id(value: str) -> tuple[int, int] | None:
    user_id, _, version = value.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # includes cookies from before session versions: sign in again
    return int(user_id), int(version)


@login_manager.user_loader
def _load(session_id: str) -> StaffPrincipal | None:
    parsed = _parse_session_id(session_id)
    if parsed is None:
        return None
    with state().db() as session:
        user = session.get(StaffUser, parsed[0])
        if user is None or not user.active or staff.is_locked(user):
            return None
        if not staff.session_matches(user, parsed[1]):
            return None  # signed out since (or the password changed)
        return StaffPrincipal.of(user)


def sign_out(principal: StaffPrincipal) -> None:
    """Server-side sign-out: every cookie carrying the current session version dies."""
    with state().db() as session:
        user = session.get(StaffUser, principal.id)
        if user is not None:
            staff.end_sessions(session, user)


def bearer_user() -> StaffPrincipal | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    with state().db() as session:
        user = staff.user_for_token(session, header[7:].strip())
        return StaffPrincipal.of(user) if user else None


def api_user() -> StaffPrincipal | None:
    """Bearer token first (staff tools), else the inbox session cookie."""
    user = bearer_user()
    if user is not None:
        return user
    if current_user.is_authenticated:
        return current_user  # type: ignore[return-value]
    return None


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated or current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper
