"""The alerts events hold open: one per CI, alert name and key, however many events feed it.

A storm stays one alert: repeats only count (`events`), a resolve is held for `flap_hold_seconds` and a new
firing event inside that window cancels it (counted in `flaps`), so a flapping port neither opens a new
alert nor resolves one on every bounce. `due` hands the flusher what Alertmanager must hear: new alerts,
ended ones (resolved or expired), and a refresh of every open alert each `resend_seconds`, because
Alertmanager forgets an alert whose ``endsAt`` passes and keeps none across its own restart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.events.rules import RateLimit

Key = tuple[str, ...]


@dataclass
class Active:
    """One open alert."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    last_event: float
    expire_seconds: float | None
    hold_seconds: float
    resolving_at: float | None = None
    events: int = 1
    flaps: int = 0
    dirty: bool = True
    last_sent: float = 0.0

    @property
    def expires_at(self) -> float | None:
        """Return when the alert ends by itself, if its rule gives it an expiry."""
        return None if self.expire_seconds is None else self.last_event + self.expire_seconds

    def ended_at(self, now: float) -> float | None:
        """Return when the alert ended (its resolving event, or its expiry), or None while it holds."""
        if self.resolving_at is not None and now - self.resolving_at >= self.hold_seconds:
            return self.resolving_at
        expires = self.expires_at
        return expires if expires is not None and now >= expires else None


@dataclass(frozen=True)
class Post:
    """One alert as it goes to Alertmanager: ``ends_at`` when it ended, else firing until `expires_at`."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float
    ends_at: float | None = None
    expires_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the queue's form of this post."""
        return {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Post:
        """Read a post back from the queue."""
        return cls(
            data["labels"],
            data["annotations"],
            data["starts_at"],
            data.get("ends_at"),
            data.get("expires_at"),
        )

    def alertmanager(self, now: float, ttl: float) -> dict[str, Any]:
        """Return the API v2 alert, ``endsAt`` computed now so a late delivery never resolves a live alert."""
        if self.ends_at is not None:
            ends = self.ends_at
        else:
            ends = now + ttl if self.expires_at is None else min(now + ttl, self.expires_at)
        return {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(ends),
        }


def rfc3339(seconds: float) -> str:
    """Return a Unix time in the form Alertmanager reads."""
    return (
        dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass
class AlertBook:
    """Every open alert by key; not thread-safe (the pipeline holds its lock)."""

    resend_seconds: float
    alerts: dict[Key, Active] = field(default_factory=dict)
    changed: bool = False

    def fire(
        self,
        key: Key,
        labels: dict[str, str],
        annotations: dict[str, str],
        now: float,
        *,
        expire_seconds: float | None,
        hold_seconds: float,
    ) -> bool:
        """Record a firing event; return True when it opens a new alert."""
        alert = self.alerts.get(key)
        if alert is None:
            self.alerts[key] = Active(labels, annotations, now, now, expire_seconds, hold_seconds)
            self.changed = True
            return True
        alert.events += 1
        alert.last_event = now
        alert.annotations.update(annotations)
        if alert.resolving_at is not None:
            alert.resolving_at = None
            alert.flaps += 1
        return False

    def resolve(self, key: Key, now: float) -> bool:
        """Record a resolving event; return True when an open alert now waits out its flap hold."""
        alert = self.alerts.get(key)
        if alert is None or alert.resolving_at is not None:
            return False
        alert.resolving_at = now
        return True

    def due(self, now: float, *, refresh: bool) -> list[Post]:
        """Return what Alertmanager must hear now, and forget the alerts that ended."""
        posts: list[Post] = []
        for key, alert in list(self.alerts.items()):
            ended = alert.ended_at(now)
            if ended is not None:
                posts.append(self._post(alert, ended))
                del self.alerts[key]
                self.changed = True
            elif alert.dirty or (refresh and now - alert.last_sent >= self.resend_seconds):
                posts.append(self._post(alert, None))
                alert.dirty = False
                alert.last_sent = now
        return posts

    def _post(self, alert: Active, ended: float | None) -> Post:
        notes = {**alert.annotations, "events": str(alert.events)}
        if alert.flaps:
            notes["flaps"] = str(alert.flaps)
        return Post(alert.labels, notes, alert.starts_at, ended, alert.expires_at)

    def snapshot(self) -> list[dict[str, Any]]:
        """Return the open alerts as JSON, so a restart neither loses nor re-opens them."""
        return [{"key": list(k), **vars(a)} for k, a in self.alerts.items()]

    def load(self, path: Path) -> int:
        """Load the open alerts a `snapshot` saved, if any; each is refreshed at the next flush."""
        if not path.exists():
            return 0
        items: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        for item in items:
            data = {k: v for k, v in item.items() if k != "key"}
            data.update(dirty=False, last_sent=0.0)
            self.alerts[tuple(item["key"])] = Active(**data)
        return len(items)


def save_json(path: Path, data: object) -> None:
    """Write JSON atomically: a crash leaves the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)
    os.replace(tmp, path)


class Bucket:
    """A token bucket: `events` per `seconds`, refilled continuously."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.rate = limit.events / limit.seconds
        self.capacity = float(limit.events)
        self.tokens = self.capacity
        self.at = now

    def take(self, now: float) -> bool:
        """Spend one token if one is left; refill for the time since the last call first."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
