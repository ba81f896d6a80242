"""What every console page shares: the blueprint, the logged-in user, CSRF, roles, language, rendering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console import audit as audit_log
from alertrouter.console import wording
from alertrouter.console.i18n import current_lang
from alertrouter.console.models import RANK, Role
from alertrouter.console.users import session_user
from alertrouter.freetext import ASK, SHAPES, TextRefused, check_texts
from alertrouter.state import current_state
from hospmon.inventory.schema import Name

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
COOKIE = "hospmon_console"
CSRF_KEY = "csrf"
"""Flask-WTF keeps the raw token under its field name in the signed session cookie."""
OPEN_ENDPOINTS = {"console.login", "console.static"}
F = TypeVar("F", bound=Callable[..., Any])
CSRF_FIELD = Markup('<input type="hidden" name="csrf" value="{}">')


@dataclass(frozen=True)
class Viewer:
    """The logged-in user as the pages see it."""

    id: int
    username: str
    role: Role
    lang: str | None

    def can(self, role: Role) -> bool:
        """Tell whether this user has at least a role."""
        return RANK[self.role] >= RANK[role]


def viewer() -> Viewer:
    """Return the logged-in user; the before-request hook guarantees one outside the open pages."""
    return cast(Viewer, g.console_user)


def lang() -> str:
    """Return the language of this request: the user's setting, else the browser's."""
    return current_lang()


def _(text: str, **values: Any) -> str:
    """Translate a console string into this request's language (Flask-Babel's gettext)."""
    return str(gettext(text, **values))


def name_of(name: Name | None, fallback: str) -> str:
    """Pick the inventory name in this request's language."""
    if name is None:
        return fallback
    return (name.zh or name.en or fallback) if lang() == "zh" else (name.en or name.zh or fallback)


def see_other(endpoint: str, **values: Any) -> HttpResponse:
    """Redirect after a POST (303), to a console page."""
    return redirect(url_for(endpoint, **values), code=303)


def secure_cookies() -> bool:
    """Mark cookies Secure on HTTPS, with an https console_url, or with CONSOLE_SECURE_COOKIES."""
    return bool(
        request.is_secure
        or current_state().router.settings.file.console_url.startswith("https://")
        or current_app.config.get("CONSOLE_SECURE_COOKIES", False)
    )


def error_page(status: int, message: str) -> Response:
    """Render an error in the console's look; a service's reason (a message) in the reader's language."""
    message = wording.reason_text(message, current_lang())
    resp = Response(render_template("console/error.html", message=message, status=status), status=status)
    return resp


def refuse_patient_text(fields: Iterable[str], page: Callable[[], Any]) -> Response | None:
    """Show the form's page again (400), all typed text kept, if the PHI guard refuses one of `fields`."""
    try:
        check_texts(current_state().router.guard, {f: request.form.get(f, "") for f in fields})
    except TextRefused as exc:
        g.typed, g.refused = request.form, {exc.field: f"{_(SHAPES[exc.rule])} {_(ASK)}"}
        resp = make_response(page())
        resp.status_code = 400
        return resp
    return None


def field_error(name: str) -> Markup:
    """Return the error under a form field the PHI guard refused, or nothing."""
    message = g.get("refused", {}).get(name)
    if message is None:
        return Markup("")
    return Markup('<p class="field-error" id="{}-error" role="alert">{}</p>').format(name, message)


@bp.before_request
def _before() -> Response | None:
    g.console_user = None
    if request.endpoint == "console.static":
        return None
    token = request.cookies.get(COOKIE)
    state = current_state()
    if token:
        with state.sessions() as session:
            found = session_user(token, session=session, now=state.now())
            if found is not None:
                user, _row = found
                g.console_user = Viewer(user.id, user.username, Role(user.role), user.lang)
                g.console_user_lang = user.lang
    user = g.console_user
    if request.endpoint not in OPEN_ENDPOINTS and user is None:
        if request.method == "GET":
            return cast(Response, redirect(url_for("console.login", next=request.full_path)))
        return error_page(401, _("Log in"))
    check_csrf()
    return None


def check_csrf() -> None:
    """Refuse (CSRFError) a form post without this browser session's token, with Flask-WTF."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()


@bp.after_request
def _headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        resp.headers["Cache-Control"] = "no-store"
    return resp


def needs(role: Role) -> Callable[[F], F]:
    """Refuse a view (403) to users below a role."""

    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not viewer().can(role):
                return error_page(403, _("You may not do this."))
            return view(*args, **kwargs)

        return cast(F, inner)

    return wrap


def audit(session: Session, action: str, target: str = "", **detail: Any) -> None:
    """Record a change by the logged-in user in the audit log."""
    audit_log.audit(
        action,
        session=session,
        actor=viewer().username,
        at=current_state().now(),
        target=target,
        address=request.remote_addr or "",
        detail=detail,
    )


@bp.context_processor
def _context() -> dict[str, Any]:
    user = g.get("console_user")
    return {
        "me": user,
        "lang": lang(),
        "csrf_field": CSRF_FIELD.format(generate_csrf()),
        "typed": g.get("typed") or {},
        "field_error": field_error,
        "Role": Role,
        "name_of": name_of,
        "inventory": current_state().router.inventory,
        "localtime": localtime,
        "day": dt.timedelta(days=1),
        "title_of": lambda inc: wording.title_of(inc, lang()),
        "explain": lambda inc: wording.explain(inc, lang()),
        "owner_text": lambda inc: wording.owner_text(inc, lang()),
        "event_text": lambda event: wording.event_text(event, lang()),
    }


def localtime(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a UTC datetime in the hospital's time zone."""
    if value is None:
        return ""
    return str(value.astimezone(current_state().router.inventory.tz).strftime(fmt))
