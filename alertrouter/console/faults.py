"""Every error under the console's addresses as a console page in the reader's language, never JSON.

The app's one error handler (alertrouter.errors) asks `fault_page` first; it answers for the console, the
page-action links and the ward status page (a route of theirs, or an address under their prefixes that
matched no route: a 404 or 405), and leaves everything else (the JSON API, the webhook) to the JSON body.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from alertrouter.console.i18n import current_lang
from alertrouter.console.web import CSRF_KEY, _, _context, _headers
from alertrouter.console.wording import reason_text
from alertrouter.errors import PAGES, ApiError, Fault, request_id

BLUEPRINTS = {"console", "links", "status"}
PREFIXES = ("/console/", "/a/", "/status/")
RETRY_MINUTE = 60
"""A store outage's Retry-After on a page: the page says "in a minute"."""


def _ours() -> bool:
    """Tell whether this request is the console's (a page, a link, the status page), not the API's."""
    if request.blueprint is not None:
        return request.blueprint in BLUEPRINTS
    path = request.path.rstrip("/") + "/"
    return path.startswith(PREFIXES)


def _message(exc: Exception, fault: Fault) -> str:
    """Say what happened and what to do, in the reader's language."""
    if isinstance(exc, ApiError):
        return reason_text(exc.reason, current_lang())
    if isinstance(exc, CSRFError):
        return _(
            "This page was open too long and its form has expired; your action was not saved. "
            "Reload the page and do it again."
        )
    if fault.status == 503:
        return _("The incident store is not answering; your action was not saved. Try again in a minute.")
    if fault.status == 500:
        return _(
            "Something went wrong in the router; your action was not saved. Try again; if it happens "
            "again, tell the monitoring team request %(id)s.",
            id=request_id(),
        )
    if not isinstance(exc, HTTPException):  # a value the store refused
        return _(
            "The incident store refused a value you typed (too long or out of range); nothing was saved."
        )
    return {
        404: _("There is nothing at this address: check the link, or find the incident on the board."),
        405: _("This address cannot be used that way; use the buttons on the board."),
        413: _("What you sent is too large; nothing was saved. Shorten it and try again."),
    }.get(fault.status, _("The form sent something this page did not expect; nothing was saved."))


def _back() -> str:
    """Return where the reader goes from here: the status page, the link's page, else the board."""
    if request.blueprint == "status" or request.path.startswith("/status"):
        return url_for("status.status_page")
    code = (request.view_args or {}).get("code")
    if request.blueprint == "links" and isinstance(code, str):
        return url_for("links.show", code=code)
    return url_for("console.board")


def _typed(exc: Exception) -> dict[str, str]:
    """Return what the reader typed into a form the CSRF check refused, to copy before reloading."""
    if not isinstance(exc, CSRFError):
        return {}
    return {k: v for k, v in request.form.items() if k != CSRF_KEY and v.strip()}


def fault_page(exc: Exception, fault: Fault) -> Response | None:
    """Answer a fault with the console's error page when the request is the console's; else None."""
    if not _ours():
        return None
    # A refused CSRF token keeps its 403 (a page's forms and the tests know it); Flask-WTF says 400.
    status = 403 if isinstance(exc, CSRFError) and request.blueprint == "console" else fault.status
    html = render_template(
        "console/error.html",
        **_context(),
        message=_message(exc, fault),
        status=status,
        back=_back(),
        kept=_typed(exc),
    )
    resp = _headers(Response(html, status=status))
    if fault.retry_after is not None:
        resp.headers["Retry-After"] = str(RETRY_MINUTE)
    return resp


def init_fault_pages(app: Flask) -> None:
    """Let the app's error handler answer the console's requests with pages."""
    app.extensions[PAGES] = fault_page
