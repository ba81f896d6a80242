"""Check Alertmanager's credentials (bearer token or basic auth) in constant time."""

from __future__ import annotations

import base64
import hmac

from alertrouter.settings import Settings


def authorized(header: str | None, settings: Settings) -> bool:
    """Tell whether an Authorization header carries the configured credentials."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if settings.bearer_token is not None:
        return scheme == "bearer" and hmac.compare_digest(
            value.strip().encode(), settings.bearer_token.encode()
        )
    if settings.basic_auth is not None and scheme == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        want_user, want_password = settings.basic_auth
        # Compare both, always, so timing tells nothing about which one was wrong.
        ok_user = hmac.compare_digest(user.encode(), want_user.encode())
        ok_password = hmac.compare_digest(password.encode(), want_password.encode())
        return ok_user and ok_password
    return False
