"""Refuse secrets written into the router config where a ``*_file`` or ``*_env`` key could hold them.

A password in ``database.url`` or a token in a channel's URL ends up in version control, in backups of
/etc, in ``ps`` output of whoever templates the file, and in every support ticket that attaches the config.
The check runs at start-up and in ``hospmon-router --check``; each fault names the file, the key and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hospmon.config import ConfigFault

if TYPE_CHECKING:
    from alertrouter.settings import RouterFile

SECRET_PARAM = re.compile(
    r"(token|key|secret|passw(or)?d|pwd|pass|sig(nature)?|auth|credential|access[_-]?key|sign)", re.I
)
"""Query parameter names that carry a secret in the webhook and SMS gateway URLs hospitals use."""


def _database(url: str, file: str) -> list[ConfigFault]:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [ConfigFault(file, "database", "url", "not a SQLAlchemy URL (e.g. postgresql+psycopg://...)")]
    if parsed.password is None:
        return []
    return [
        ConfigFault(
            file,
            "database",
            "url",
            "holds a password: remove it from the URL and put it in a file named by "
            "database.password_file (or an environment variable named by database.password_env)",
        )
    ]


def url_secret(url: str) -> str | None:
    """Say what secret a URL carries (credentials, or the name of a secret query parameter), or None."""
    parts = urlsplit(url)
    if parts.password is not None or (parts.username and "@" in parts.netloc):
        return "user credentials (user:password@)"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if SECRET_PARAM.search(name):
            return f"a secret in its query parameter {name!r}"
    return None


def _addresses(raw: RouterFile) -> list[tuple[str, str, str | None, str]]:
    """Return the URLs the router calls or shows: (entry, key, URL, where its secret goes instead)."""

    def elsewhere(peer: str, key: str) -> str:
        return (
            f"give {peer}'s address only, and its credentials in {key}.basic_auth (username, "
            f"password_file) or {key}.bearer_token_file"
        )

    found = [
        ("alertmanager", "url", raw.alertmanager.url, elsewhere("Alertmanager", "alertmanager")),
        (
            "wards",
            "prometheus_url",
            raw.wards.prometheus_url,
            elsewhere("Prometheus", "wards.prometheus_auth"),
        ),
        (
            "",
            "console_url",
            raw.console_url or None,
            "give the console's address only: it goes into every page",
        ),
    ]
    for ch in raw.channels:
        fix = f"give the API's address only; the bot key goes in channels[{ch.name}].key_file"
        found.append((f"channels[{ch.name}]", "api_url", ch.api_url, fix))
    for ch in raw.channels:
        hint = " (or use kind wecom/dingtalk with key_file)" if ch.kind == "webhook" else ""
        fix = f"put the whole URL in a file (mode 0600) and name it in channels[{ch.name}].url_file instead"
        fix += hint
        found.append((f"channels[{ch.name}]", "url", ch.url, fix))
    return found


def inline_secrets(raw: RouterFile, path: str | Path) -> list[ConfigFault]:
    """Return a fault for every secret written inline in the config."""
    file = str(path)
    faults = _database(raw.database.url, file)
    for entry, key, url, fix in _addresses(raw):
        found = url_secret(url) if url else None
        if found:
            faults.append(ConfigFault(file, entry, key, f"carries {found}: {fix}"))
    return faults
