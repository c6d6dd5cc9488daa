"""Staff sign-in and sign-out for the inbox (sign-out also ends the session on the
server: webhook.auth)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from casework import staff
from webhook.auth import StaffPrincipal, sign_out
from webhook.inbox.blueprint import bp, me
from webhook.state import state


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        with state().db() as session:
            user = staff.authenticate(session, form.email.data or "", form.password.data or "")
            principal = StaffPrincipal.of(user) if user else None
        if principal is None:
            flash(
                "Email or password not recognised. After 5 failed attempts an account is "
                "locked for 15 minutes.",
                "error",
            )
            return render_template("inbox/login.html", form=form), 401
        flask_session.clear()  # a fresh session on sign-in (no fixation)
        login_user(principal)
        return redirect(url_for("inbox.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("inbox/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    sign_out(me())
    logout_user()
    flask_session.clear()
    return redirect(url_for("inbox.login"))
