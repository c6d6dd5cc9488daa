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

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, user: StaffUser) -> StaffPrincipal:
        return cls(id=user.id, email=user.email, name=user.name, role=user.role)


@login_manager.user_loader
def _load(user_id: str) -> StaffPrincipal | None:
    if not user_id.isdigit():
        return None
    with state().db() as session:
        user = session.get(StaffUser, int(user_id))
        if user is None or not user.active or staff.is_locked(user):
            return None
        return StaffPrincipal.of(user)


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
