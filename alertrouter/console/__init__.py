"""The operations console: incidents, knowledge, problems, changes, statistics; Chinese and English."""

from __future__ import annotations

from flask import Flask


def init_console(app: Flask) -> None:
    """Register the console's blueprint (its views import on registration)."""
    from alertrouter.console import views_auth, views_incidents, views_kb, views_ops, views_stats  # noqa: F401
    from alertrouter.console.web import bp

    app.register_blueprint(bp)
