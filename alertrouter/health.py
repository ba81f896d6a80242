"""``/-/healthy``, ``/-/ready`` and ``/metrics``."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from alertrouter.state import current_state

bp = Blueprint("health", __name__)


@bp.get("/-/healthy")
def healthy() -> Response:
    """Answer while the process runs."""
    return Response("OK\n", mimetype="text/plain")


@bp.get("/-/ready")
def ready() -> Response:
    """Answer 200 when the store answers, 503 otherwise."""
    with current_state().sessions() as session:
        session.execute(text("SELECT 1"))
    return Response("OK\n", mimetype="text/plain")


@bp.get("/metrics")
def metrics() -> Response:
    """Expose the router's metrics in the Prometheus text format."""
    return Response(generate_latest(current_state().registry), mimetype=CONTENT_TYPE_LATEST)
