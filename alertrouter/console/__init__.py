"""The operations console: incidents, knowledge, problems, changes, statistics; Chinese and English."""

from __future__ import annotations

from flask import Blueprint, Flask


def load_views() -> Blueprint:
    """Import the console's views (they register on its blueprint); return the blueprint."""
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

    return bp


def init_console(app: Flask) -> None:
    """Register the console's blueprint."""
    app.register_blueprint(load_views())
