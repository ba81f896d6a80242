"""One error handler for the whole app: every error gets the same JSON body with the request id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger("alertrouter")


class ApiError(Exception):
    """An error a view raises on purpose, with its HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class NotFound(ApiError):
    """The thing asked for does not exist."""

    def __init__(self, reason: str) -> None:
        super().__init__(404, reason)


def request_id() -> str:
    """Return this request's id, taken from X-Request-Id or made up."""
    rid: str | None = g.get("request_id")
    if rid is None:
        given = request.headers.get("X-Request-Id", "")
        rid = given if 0 < len(given) <= 100 and given.isprintable() else uuid.uuid4().hex
        g.request_id = rid
    return rid


def error_body(status: int, reason: str) -> Response:
    """Build the one error body: {"error": {"status", "reason", "request_id"}}."""
    resp = jsonify({"error": {"status": status, "reason": reason, "request_id": request_id()}})
    resp.status_code = status
    return resp


def _store_down(exc: Exception) -> bool:
    """Tell whether an error means the store cannot be reached or is busy, so a retry may succeed."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class Fault:
    """What went wrong with a request, as the JSON API and the console's pages both answer it."""

    status: int
    reason: str
    retry_after: int | None = None


PAGES = "hospmon_error_pages"
"""The app's extension key of a function that answers a fault with a page, or None to leave it to JSON."""


def fault_of(exc: Exception) -> Fault:
    """Classify an error (logging what the log needs): a refusal, a bad value, a store outage or a bug."""
    if isinstance(exc, ApiError):
        return Fault(exc.status, exc.reason)
    if isinstance(exc, HTTPException):
        return Fault(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, DataError):
        # A value the store refuses (too long, out of range, a NUL) is the request's fault: a 5xx would make
        # Alertmanager retry it forever. Log the kind only: the value may be anything.
        log.warning("the store refused a value (request %s): %s", request_id(), type(exc.orig).__name__)
        return Fault(400, "the store refused a value of this request (too long, out of range, or NUL)")
    if _store_down(exc):
        log.warning("store unavailable (request %s): %s", request_id(), exc)
        return Fault(503, "the store is unavailable; retry later", retry_after=5)
    log.exception("unhandled error (request %s)", request_id())
    return Fault(500, "internal error; see the router log for this request id")


def _handle(exc: Exception) -> Response:
    fault = fault_of(exc)
    page: Callable[[Exception, Fault], Response | None] | None = current_app.extensions.get(PAGES)
    resp = page(exc, fault) if page is not None else None
    if resp is None:
        resp = error_body(fault.status, fault.reason)
        if fault.retry_after is not None:
            resp.headers["Retry-After"] = str(fault.retry_after)
        if fault.status == 401 and isinstance(exc, HTTPException):
            resp.headers["WWW-Authenticate"] = 'Bearer realm="hospmon-router"'
    return resp


def register_errors(app: Flask) -> None:
    """Install the handler and the request-id header."""
    app.register_error_handler(Exception, _handle)

    @app.after_request
    def _rid(resp: Response) -> Response:
        resp.headers["X-Request-Id"] = request_id()
        return resp
