"""The operations console: incidents, knowledge, problems, changes, statistics; Chinese and English."""

from __future__ import annotations

from flask import Flask


def init_console(app: Flask) -> None:
    """Register the console's blueprint (its views import on registration)."""
    from alertrouter.console import (  # noqa: F401
        views_audit,
        views_auth,
        views_incidents,
        views_kb,
        views_ops,
        views_stats,
        views_topology,
    )
    from alertrouter.console.web import bp

    app.register_blueprint(bp)
