"""Parse Alertmanager's webhook (version 4, as 0.25 to 0.34 send it) into alerts; a pure function, no I/O.

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
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
"""Times outside these are refused: near the ends of Python's range, converting them to the hospital's zone
or adding a period overflows."""
COLUMN_LIMITS = {"alertname": 200, "ci": 64}
"""Label values the store keeps in columns of bounded size."""
MAX_COUNT = 2**31 - 1


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
    redactions: tuple[str, ...] = ()
    """Where the PHI guard replaced a value, and by which rule: ``labels.ifAlias: han_name``."""

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
    notification_reason: str = ""
    """Why Alertmanager sent it ("first notification", "repeat interval elapsed", ...); from 0.32 on."""
    route_labels: dict[str, str] = field(default_factory=dict)
    """The labels of the route that matched, rendered; from 0.34 on."""


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
        raise PayloadError(f"{where}: {value[:64]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where}: {value[:64]!r} has no time zone")
    if parsed.year <= _ZERO_YEAR:
        return None
    try:
        utc = parsed.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise PayloadError(f"{where}: {value[:64]!r} is out of range ({EARLIEST.year} to {LATEST.year - 1})")
    return utc


def check_text(value: str, where: str, limit: int | None = None) -> str:
    """Refuse text the store cannot keep: NUL characters, lone surrogates, more than `limit` characters."""
    if "\x00" in value:
        raise PayloadError(f"{where}: contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"{where}: not valid Unicode (a lone surrogate)") from None
    if limit is not None and len(value) > limit:
        raise PayloadError(f"{where}: at most {limit} characters")
    return value


def _shown(value: Any) -> str:
    """Show a refused value briefly: a short string quoted, anything else by its JSON type."""
    if isinstance(value, str):
        return repr(value[:32])
    return "null" if value is None else type(value).__name__


def _optional_text(raw: dict[str, Any], key: str, where: str, limit: int | None = None) -> str:
    """Return an optional string field ('' when absent), refusing another type."""
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a string")
    return check_text(value, where, limit)


def _str_map(value: Any, where: str, *, required: bool = True) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object of strings")
    for key, item in value.items():
        name = f"{where}.{check_text(key, f'{where} (a name)', 1024)}"
        if not isinstance(item, str):
            raise PayloadError(f"{name}: expected a string")
        check_text(item, name, COLUMN_LIMITS.get(key) if where.endswith(".labels") else None)
    return dict(value)


def _alert(raw: Any, where: str) -> ParsedAlert:
    if not isinstance(raw, dict):
        raise PayloadError(f"{where}: expected an object")
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}.status: expected firing or resolved, got {_shown(status)}")
    labels = _str_map(raw.get("labels"), f"{where}.labels")
    if not labels.get("alertname"):
        raise PayloadError(f"{where}.labels.alertname: missing")
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 64:
        raise PayloadError(f"{where}.fingerprint: expected a non-empty string of at most 64 characters")
    check_text(fingerprint, f"{where}.fingerprint")
    starts_at = parse_time(raw.get("startsAt"), f"{where}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{where}.startsAt: the zero time is not a start")
    ends_raw = raw.get("endsAt")
    ends_at = None if ends_raw in (None, "") else parse_time(ends_raw, f"{where}.endsAt")
    if status == "resolved" and ends_at is None:
        raise PayloadError(f"{where}.endsAt: a resolved alert needs its end time")
    url = _optional_text(raw, "generatorURL", f"{where}.generatorURL")
    return ParsedAlert(
        fingerprint=fingerprint,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        labels=labels,
        annotations=_str_map(raw.get("annotations"), f"{where}.annotations", required=False),
        generator_url=url,
    )


def parse_webhook(payload: Any) -> WebhookMessage:
    """Turn a decoded webhook body into a message; unknown fields are ignored, anything invalid raises."""
    if not isinstance(payload, dict):
        raise PayloadError("body: expected a JSON object")
    version = payload.get("version")
    if version != "4":
        raise PayloadError(f'version: expected "4", got {_shown(version)}')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: expected a list")
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or not 0 <= truncated <= MAX_COUNT:
        raise PayloadError(f"truncatedAlerts: expected an integer from 0 to {MAX_COUNT}")
    status = payload.get("status", "")
    if status not in ("", "firing", "resolved"):
        raise PayloadError(f"status: expected firing or resolved, got {_shown(status)}")
    return WebhookMessage(
        receiver=_optional_text(payload, "receiver", "receiver", 200),
        status=status,
        group_key=_optional_text(payload, "groupKey", "groupKey"),
        truncated_alerts=truncated,
        group_labels=_str_map(payload.get("groupLabels"), "groupLabels", required=False),
        external_url=_optional_text(payload, "externalURL", "externalURL"),
        alerts=[_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)],
        notification_reason=_optional_text(payload, "notification_reason", "notification_reason", 64),
        route_labels=_str_map(payload.get("routeLabels"), "routeLabels", required=False),
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
