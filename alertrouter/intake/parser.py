"""Parse Alertmanager's webhook (version 4) into alerts; a pure function, no I/O.

message = parse_webhook(json.loads(body))   # raises PayloadError("alerts[2].startsAt: ...")
for alert in message.alerts: ...
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

_ZERO_YEAR = 1
_FRACTION = re.compile(r"\.(\d+)")
SEVERITIES = ("critical", "warning", "info")


class PayloadError(ValueError):
    """The payload is not a valid Alertmanager webhook; the message says where and why."""


@dataclass(frozen=True)
class ParsedAlert:
    """One alert as Alertmanager sent it."""

    fingerprint: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str = ""

    @property
    def alertname(self) -> str:
        """Return the alert's name."""
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        """Return the severity label, or '' when absent."""
        return self.labels.get("severity", "")

    @property
    def ci(self) -> str | None:
        """Return the configuration item the alert is about, if labelled."""
        return self.labels.get("ci") or None


@dataclass(frozen=True)
class WebhookMessage:
    """A whole webhook delivery."""

    receiver: str
    status: str
    group_key: str
    truncated_alerts: int
    group_labels: dict[str, str]
    external_url: str
    alerts: list[ParsedAlert] = field(default_factory=list)


def parse_time(value: Any, where: str) -> dt.datetime | None:
    """Parse an RFC 3339 time as Go writes it; the zero time (year 1) means unset."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}: expected an RFC 3339 time string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Go writes up to nanoseconds; Python takes at most microseconds.
    text = _FRACTION.sub(lambda m: "." + m[1][:6].ljust(6, "0"), text, count=1)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where}: {value!r} has no time zone")
    if parsed.year <= _ZERO_YEAR:
        return None
    return parsed.astimezone(dt.UTC)


def _str_map(value: Any, where: str, *, required: bool = True) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key}: expected a string")
    return dict(value)


def _alert(raw: Any, where: str) -> ParsedAlert:
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: expected an object")
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status: expected firing or resolved, got {status!r}")
    labels = _str_map(raw.get("labels"), f"{where}.labels")
    if not labels.get("alertname"):
        raise PayloadError(f"{where}.labels.alertname: missing")
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 64:
        raise PayloadError(f"{where}.fingerprint: expected a non-empty string of at most 64 characters")
    starts_at = parse_time(raw.get("startsAt"), f"{where}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{where}.startsAt: the zero time is not a start")
    ends_raw = raw.get("endsAt")
    ends_at = None if ends_raw in (None, "") else parse_time(ends_raw, f"{where}.endsAt")
    if status == "resolved" and ends_at is None:
        raise PayloadError(f"{where}.endsAt: a resolved alert needs its end time")
    url = raw.get("generatorURL", "")
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        labels=labels,
        annotations=_str_map(raw.get("annotations"), f"{where}.annotations", required=False),
        generator_url=url if isinstance(url, str) else "",
    )


def parse_webhook(payload: Any) -> WebhookMessage:
    """Turn a decoded webhook body into a message; unknown fields are ignored, anything invalid raises."""
    if not isinstance(payload, dict):
        raise PayloadError("body: expected a JSON object")
    version = payload.get("version")
    if version != "4":
        raise PayloadError(f'version: expected "4", got {version!r}')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: expected a list")
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise PayloadError("truncatedAlerts: expected a non-negative integer")
    group_key = payload.get("groupKey", "")
    receiver = payload.get("receiver", "")
    url = payload.get("externalURL", "")
    return WebhookMessage(
        receiver=receiver if isinstance(receiver, str) else "",
        status=str(payload.get("status", "")),
        group_key=group_key if isinstance(group_key, str) else "",
        truncated_alerts=truncated,
        group_labels=_str_map(payload.get("groupLabels"), "groupLabels", required=False),
        external_url=url if isinstance(url, str) else "",
        alerts=[_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)],
    )


def parse_api_alert(raw: Any, where: str) -> ParsedAlert:
    """Parse one alert from Alertmanager's API v2 (``GET /api/v2/alerts``) into the webhook's shape."""
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: expected an object")
    state = (raw.get("status") or {}).get("state") if isinstance(raw.get("status"), dict) else None
    ends = parse_time(raw.get("endsAt"), f"{where}.endsAt") if raw.get("endsAt") else None
    status = (
        "resolved"
        if state == "resolved" or (ends is not None and ends <= dt.datetime.now(dt.UTC))
        else "firing"
    )
    shaped = {**raw, "status": status}
    return _alert(shaped, where)
