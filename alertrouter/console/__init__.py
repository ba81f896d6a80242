"""The operations console: incidents, knowledge, problems, changes, statistics; Chinese and English."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect


def init_console(app: Flask, *, secure: bool = False) -> CSRFProtect:
    """Register the console's blueprint with Babel, the signed session and Flask-WTF's CSRF check."""
    from alertrouter.console.faults import init_fault_pages
    from alertrouter.console.i18n import init_i18n
    from alertrouter.console.web import CSRF_KEY
    from alertrouter.keys import SessionInterface

    init_i18n(app)
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="hospmon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_FIELD_NAME=CSRF_KEY,
        # The pages check after they know who is asking (a stranger gets 401, not 403); web.check_csrf.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A page left open through a shift still posts; a day-old one asks for a reload.
        WTF_CSRF_TIME_LIMIT=int(dt.timedelta(hours=12).total_seconds()),
    )
    csrf = CSRFProtect(app)
    init_fault_pages(app)
    for blueprint in load_views():
        app.register_blueprint(blueprint)
    return csrf


def load_views() -> list[Blueprint]:
    """Import the console's views (they register on their blueprints); return the blueprints."""
    from alertrouter.console import (  # noqa: F401
        views_audit,
        views_auth,
        views_calendar,
        views_incidents,
        views_kb,
        views_ops,
        views_stats,
        views_topology,
    )
    from alertrouter.console.ical import bp as ical_bp
    from alertrouter.console.views_links import bp as links_bp
    from alertrouter.console.views_status import bp as status_bp
    from alertrouter.console.web import bp

    return [bp, links_bp, ical_bp, status_bp]
