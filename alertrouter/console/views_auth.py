"""Log in and out, the user's settings and user management."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from flask import session as cookie_session
from sqlalchemy import delete, select
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console import audit as audit_log
from alertrouter.console.i18n import LANGS
from alertrouter.console.models import Role, User, UserSession
from alertrouter.console.users import (
    BadLogin,
    RateLimited,
    check_password,
    create_user,
    get_user_by_name,
    hash_password,
    login,
    logout,
    token_hash,
)
from alertrouter.console.web import (
    COOKIE,
    CSRF_KEY,
    _,
    audit,
    bp,
    error_page,
    needs,
    secure_cookies,
    see_other,
    viewer,
)
from alertrouter.errors import ApiError
from alertrouter.state import current_state, writing


def _login_form(status: int = 200, message: str = "") -> HttpResponse:
    return Response(
        render_template("console/login.html", message=message, next=_next(), me=None), status=status
    )


def _next() -> str:
    target = request.values.get("next", "")
    # Only paths inside the console, never another site.
    return target if target.startswith("/console/") and not target.startswith("//") else url_for(".board")


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_view() -> HttpResponse:
    """Show the login form; check a login, rotate the session and set the cookie."""
    if request.method == "GET":
        return _login_form()
    state = current_state()
    now, address = state.now(), request.remote_addr or ""
    username = request.form.get("username", "").strip()[:64]
    with writing() as session:
        try:
            user, token, _csrf = login(
                username,
                request.form.get("password", ""),
                address=address,
                session=session,
                now=now,
                old_token=request.cookies.get(COOKIE),
            )
        except RateLimited:
            # Returned, not raised: the refused login is kept (in the audit log and toward the limit).
            audit_log.audit("login_limited", session=session, actor=username, at=now, address=address)
            resp = _login_form(429, _("Too many failed logins; try again in 15 minutes."))
            resp.headers["Retry-After"] = "900"
            return resp
        except BadLogin:
            audit_log.audit("login_failed", session=session, actor=username, at=now, address=address)
            return _login_form(401, _("Wrong user name or password."))
        audit_log.audit("login", session=session, actor=user.username, at=now, address=address)
    done = redirect(_next(), code=303)
    done.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=secure_cookies(), path="/console")
    cookie_session.pop(CSRF_KEY, None)  # a new CSRF token for the logged-in session
    return done


@bp.post("/logout", endpoint="logout")
def logout_view() -> HttpResponse:
    """End the session."""
    with writing() as session:
        logout(request.cookies.get(COOKIE, ""), session=session)
        audit(session, "logout")
    resp = see_other(".login")
    resp.delete_cookie(COOKIE, path="/console")
    cookie_session.pop(CSRF_KEY, None)
    return resp


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> HttpResponse | str:
    """Let users choose their language."""
    message = ""
    if request.method == "POST" and request.form.get("new_password") is not None:
        return _change_password()
    if request.method == "POST":
        chosen = request.form.get("lang", "")
        with writing() as session:
            user = session.get(User, viewer().id)
            assert user is not None
            user.lang = chosen if chosen in LANGS else None
            audit(session, "set_language", viewer().username, lang=user.lang)
        return see_other(".settings", saved=1)
    if request.args.get("saved"):
        message = _("Saved.")
    return render_template("console/settings.html", message=message, langs=LANGS)


def _change_password() -> HttpResponse | str:
    current, new = request.form.get("password", ""), request.form.get("new_password", "")
    with writing() as session:
        user = session.get(User, viewer().id)
        assert user is not None
        if not check_password(current, user.password_hash):
            raise ApiError(403, _("Wrong user name or password."))
        if len(new) < 8:
            raise ApiError(400, _("The new password needs at least 8 characters."))
        user.password_hash = hash_password(new)
        # Every other session of this user ends; this one goes on.
        session.execute(
            delete(UserSession).where(
                UserSession.user_id == user.id, UserSession.token_hash != token_hash(request.cookies[COOKIE])
            )
        )
        audit(session, "password_changed", user.username)
    return see_other(".settings", saved=1)


@bp.route("/users", methods=["GET", "POST"])
@needs(Role.admin)
def users() -> HttpResponse | str:
    """List users; admins add users or change a role."""
    state = current_state()
    message = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        role = request.form.get("role", "")
        if role not in Role.__members__ or not username:
            return error_page(400, "role, username")
        with writing() as session:
            user = get_user_by_name(username, session=session)
            password = request.form.get("password", "")
            if user is None:
                try:
                    create_user(username, password, Role(role), session=session, now=state.now())
                except ValueError as exc:
                    raise ApiError(400, str(exc)) from None
                audit(session, "user_created", username, role=role)
            else:
                user.role = role
                audit(session, "user_role", username, role=role)
        message = _("Saved.")
    with state.sessions() as session:
        rows = list(session.execute(select(User).order_by(User.username)).scalars())
        return render_template("console/users.html", users=rows, message=message)
