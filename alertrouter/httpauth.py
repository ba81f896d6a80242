"""Credentials the router sends to the peers it calls (Alertmanager, Prometheus), read from files."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from requests.auth import AuthBase, HTTPBasicAuth


@dataclass(frozen=True)
class Credentials:
    """Basic auth or a bearer token, read from the files a config names; never shown by repr()."""

    basic: tuple[str, str] | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)


class BearerAuth(AuthBase):
    """Send a bearer token (requests drops it, like basic auth, on a redirect to another host)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the Authorization header."""
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def requests_auth(credentials: Credentials | None) -> AuthBase | None:
    """Return what `requests` sends for the credentials: basic auth, a bearer token, or nothing."""
    if credentials is None:
        return None
    if credentials.basic is not None:
        return HTTPBasicAuth(*credentials.basic)
    return BearerAuth(credentials.bearer) if credentials.bearer is not None else None
