"""The router's signing key: console cookies, CSRF tokens and the action links in pages.

From ``secret_key_file`` when the config names one; else made once and kept in the store, so every replica
and every restart signs and checks with the same key (a page's links keep working across a restart).
"""

from __future__ import annotations

import datetime as dt
import secrets
import weakref
from typing import TYPE_CHECKING

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from alertrouter.db import insert_for
from alertrouter.models import Base

if TYPE_CHECKING:
    from alertrouter.context import Router

SIGNING = "signing"
# Paths whose requests carry a browser session; the webhook and the API never do, so a store that is down
# still answers them with their own 503 instead of failing while the session opens.
SESSION_PATHS = ("/console", "/a/", "/status")


class RouterSecret(Base):
    """A key the router made for itself, shared by its replicas."""

    __tablename__ = "router_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


def stored_key(name: str, *, session: Session, now: dt.datetime) -> str:
    """Return a named key from the store, making it first if no replica has yet."""
    stmt = insert_for(session)(RouterSecret).values(
        name=name, value=secrets.token_urlsafe(48), created_at=now
    )
    session.execute(stmt.on_conflict_do_nothing())
    return session.execute(select(RouterSecret.value).where(RouterSecret.name == name)).scalar_one()


_loaded: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def router_key(router: Router, *, session: Session, now: dt.datetime) -> str:
    """Return the signing key: the configured one, else the store's (read once per engine)."""
    if router.settings.secret_key:
        return router.settings.secret_key
    engine = session.get_bind()
    engine = getattr(engine, "engine", engine)
    if engine not in _loaded:
        _loaded[engine] = stored_key(SIGNING, session=session, now=now)
    return _loaded[engine]


def signing_key(app: Flask) -> str:
    """Return the app's signing key, loading it on first use."""
    if not app.secret_key:
        from alertrouter.state import AppState

        state: AppState = app.extensions["hospmon_router"]
        with state.write_lock, state.sessions() as session, session.begin():
            app.secret_key = router_key(state.router, session=session, now=state.now())
    return str(app.secret_key)


def serializer(app: Flask, purpose: str) -> URLSafeTimedSerializer:
    """Return a serializer signing for one purpose only (a token made for one never passes for another)."""
    return URLSafeTimedSerializer(signing_key(app), salt=f"hospmon-{purpose}")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the key loaded on the first request that needs a session."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Load the key for browser pages; other paths get no session."""
        if not request.path.startswith(SESSION_PATHS):
            return None
        signing_key(app)
        return super().get_signing_serializer(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Mark the cookie Secure when configured so or when this request came over HTTPS."""
        return bool(super().get_cookie_secure(app) or request.is_secure)
