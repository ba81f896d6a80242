"""The router's one client for Alertmanager's API v2: the alerts of a group, and silences for changes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import requests

from alertrouter.httpauth import Credentials, requests_auth
from alertrouter.settings import Settings


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _matcher(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


@dataclass(frozen=True)
class Alertmanager:
    """A client for the few API v2 calls the router makes; errors raise `requests.RequestException`."""

    url: str
    timeout: float = 5.0
    credentials: Credentials | None = None
    """From ``alertmanager.basic_auth`` or ``alertmanager.bearer_token_file``; never from the URL."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Alertmanager | None:
        """Return a client for the configured Alertmanager, or None when the config names none."""
        config = settings.file.alertmanager
        if not config.url:
            return None
        return cls(config.url, config.timeout_seconds, settings.alertmanager_auth)

    def _api(self, path: str) -> str:
        return f"{self.url.rstrip('/')}/api/v2/{path}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, self._api(path), auth=requests_auth(self.credentials), timeout=self.timeout, **kwargs
        )

    def alerts(self, labels: dict[str, str], receiver: str | None = None) -> Any:
        """Return the active alerts whose labels match `labels` exactly (and the receiver, when given),
        leaving out silenced and inhibited ones, which Alertmanager lists unless told not to."""
        params: dict[str, str | list[str]] = {
            "filter": [_matcher(k, v) for k, v in sorted(labels.items())],
            "active": "true",
            "silenced": "false",
            "inhibited": "false",
        }
        if receiver:
            params["receiver"] = re.escape(receiver)  # Alertmanager takes a regular expression
        resp = self._call("GET", "alerts", params=params)
        resp.raise_for_status()
        return resp.json()

    def create_silence(
        self, cis: list[str], starts: dt.datetime, ends: dt.datetime, by: str, comment: str
    ) -> str:
        """Silence every alert on the CIs for a window; return the silence id."""
        body = {
            "matchers": [
                {"name": "ci", "value": "|".join(re.escape(c) for c in cis), "isRegex": True, "isEqual": True}
            ],
            "startsAt": _iso(starts),
            "endsAt": _iso(ends),
            "createdBy": by,
            "comment": comment,
        }
        resp = self._call("POST", "silences", json=body)
        resp.raise_for_status()
        return str(resp.json()["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """End a silence now; one already gone is fine."""
        resp = self._call("DELETE", f"silence/{silence_id}")
        if resp.status_code not in (200, 404, 500):
            # Alertmanager answers 500 for a silence that has already expired.
            resp.raise_for_status()

    def silences(self) -> list[dict[str, Any]]:
        """Return the silences that are active or pending."""
        resp = self._call("GET", "silences")
        resp.raise_for_status()
        return [s for s in resp.json() if s.get("status", {}).get("state") in ("active", "pending")]
