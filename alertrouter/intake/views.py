"""``POST /webhook/alertmanager``: authenticate, parse, store, commit, then answer."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import DBAPIError

from alertrouter.auth import authorized
from alertrouter.db import transaction
from alertrouter.errors import ApiError
from alertrouter.intake.body import json_body
from alertrouter.intake.opening import Raced
from alertrouter.intake.parser import PayloadError, WebhookMessage, parse_webhook
from alertrouter.intake.service import IngestResult, ingest
from alertrouter.state import AppState, current_state

log = logging.getLogger("alertrouter.intake")

bp = Blueprint("webhook", __name__)


RETRY_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure: PostgreSQL says retry
ATTEMPTS = 3


def _store(message: WebhookMessage, state: AppState) -> IngestResult:
    """Ingest in one transaction, again when PostgreSQL aborted it or another replica raced it."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(state.sessions, state.write_lock) as session:
                return ingest(message, session=session, router=state.router, now=state.now())
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES or attempt == ATTEMPTS:
                raise
            log.info("retrying a delivery PostgreSQL aborted (%s)", exc.orig)
        except Raced as exc:
            log.info("ingesting a delivery again: %s", exc)
    # Each attempt found something new stored by another replica; Alertmanager retries a 503 later.
    raise ApiError(503, "other replicas kept storing this delivery's alerts meanwhile; retry")


@bp.after_request
def _count(resp: Response) -> Response:
    """Count every answer, errors included (the app's error handler has made them by now)."""
    current_state().counters.requests.labels(str(resp.status_code)).inc()
    return resp


@bp.post("/webhook/alertmanager")
def alertmanager() -> Response:
    """Take one Alertmanager delivery; 200 only after the alerts are committed."""
    state = current_state()
    if not authorized(request.headers.get("Authorization"), state.router.settings):
        raise ApiError(401, "missing or wrong credentials")
    try:
        message = parse_webhook(json_body(state.router.settings.file.max_body_bytes))
    except PayloadError as exc:
        raise ApiError(400, str(exc)) from None
    result = _store(message, state)
    for outcome, n in result.outcomes.items():
        state.counters.alerts.labels(outcome).inc(n)
    return jsonify({"status": "ok", "alerts": dict(result.outcomes), "incidents": sorted(result.incidents)})
